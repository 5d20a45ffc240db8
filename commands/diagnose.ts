import { z } from 'zod';
import { example, intArg, listArg } from '../src/chat/args';
import { type CommandContext, defineCommand, defineSubcommand } from '../src/chat/define-command';
import { countAnswered } from '../src/diagnosis/answers';
import { DIAGNOSIS_KIND, type DiagnosisPayload, type DiagnosisResult } from '../src/diagnosis/diagnosis-job';
import { submitDiagnosis, validateDiagnosis } from '../src/diagnosis/submit-diagnosis';
import { describeDiagnosis, pct } from '../src/diagnosis/summary';
import { UserError } from '../src/errors';
import type { MessageKey } from '../src/i18n';
import { canAct, canView, visibilityFilter } from '../src/jobs/access';
import { cancelJob } from '../src/jobs/admin';
import { progressBar } from '../src/jobs/progress-throttle';
import { getJob, listJobs } from '../src/jobs/reads';
import { formatDuration, formatTime, STATUS_ICON } from '../src/jobs/render';
import type { Job } from '../src/jobs/types';
import { acceptedText } from './accepted';
import { viewerOf } from './job-access';

const idArg = example(intArg(1, Number.MAX_SAFE_INTEGER), '42');

/** A diagnosis job the caller may see (their own, one from this group, or any for admins). */
async function loadDiagnosis(ctx: CommandContext, id: number): Promise<Job> {
  const job = await getJob(ctx.deps.db, id);
  if (!job || job.kind !== DIAGNOSIS_KIND || !canView(viewerOf(ctx), job)) {
    throw new UserError('not_found', 'diagnose.notFound', { id }, 'id');
  }
  return job;
}

const status = defineSubcommand({
  name: 'status',
  aliases: ['状态', '进度'],
  role: 'viewer',
  positional: ['id'],
  args: z.object({ id: idArg }),
  examples: ['/diagnose status 42'],
  async run(ctx, { id }) {
    const { t } = ctx;
    const job = await loadDiagnosis(ctx, id);
    const p = job.payload as DiagnosisPayload;
    const total = p.questions.length * p.models.length;
    const done = await countAnswered(ctx.deps.db, id);
    const head = t('diagnose.status', {
      id,
      status: `${STATUS_ICON[job.status] ?? ''} ${t(`job.status.${job.status}` as MessageKey)}`,
      bar: progressBar(total ? (done / total) * 100 : 0),
      done,
      total,
    });
    const parts = [head];
    if (job.status === 'succeeded' && job.result) parts.push(describeDiagnosis(job.result as DiagnosisResult, t));
    if (job.error && job.status !== 'succeeded') parts.push(t('job.final.error', { error: job.error.slice(0, 500) }));
    if (job.status === 'queued' || job.status === 'running') parts.push(t('job.detail.cancelHint', { id }));
    ctx.reply.markdown(t('job.detail.title', { id, kind: t('job.kind.brand_diagnosis') }), parts.join('\n\n'));
    return { jobId: id, data: { id, status: job.status, done, total } };
  },
});

const cancel = defineSubcommand({
  name: 'cancel',
  aliases: ['取消', 'stop'],
  role: 'operator',
  positional: ['id'],
  args: z.object({ id: idArg }),
  examples: ['/diagnose cancel 42'],
  async run(ctx, { id }) {
    const { t } = ctx;
    const job = await loadDiagnosis(ctx, id);
    if (!canAct(ctx.caller, job)) throw new UserError('forbidden', 'diagnose.notFound', { id }, 'id');
    const r = await cancelJob(ctx.deps.db, id, ctx.caller.key);
    if (!r) throw new UserError('not_found', 'diagnose.notFound', { id }, 'id');
    if (r.before === 'queued') ctx.reply.text(t('cancel.done', { id }));
    else if (r.before === 'running') ctx.reply.text(t('cancel.requested', { id }));
    else ctx.reply.text(t('cancel.alreadyFinished', { id, status: t(`job.status.${r.before}` as MessageKey) }));
    return { jobId: id };
  },
});

const history = defineSubcommand({
  name: 'history',
  aliases: ['历史'],
  role: 'viewer',
  positional: ['n'],
  args: z.object({ n: example(intArg(1, 50).default(10), '20') }),
  examples: ['/diagnose history', '/diagnose history 20'],
  async run(ctx, { n }) {
    const { t } = ctx;
    // The one visibility rule: your own, those started in this group, or all for admins.
    const jobs = await listJobs(ctx.deps.db, { kind: DIAGNOSIS_KIND, visible: visibilityFilter(viewerOf(ctx)), limit: n });
    if (jobs.length === 0) {
      ctx.reply.text(t('diagnose.history.none'));
      return;
    }
    const lines = jobs.map((j) => {
      const p = j.payload as DiagnosisPayload;
      const r = j.result as DiagnosisResult | null;
      const own = r?.overall?.[0];
      return t('diagnose.history.line', {
        icon: STATUS_ICON[j.status] ?? '',
        id: j.id,
        brands: p.brands.map((b) => b.name).join(t('list.sep')),
        q: p.questions.length,
        models: p.models.join(','),
        who: j.requestedBy ?? '-',
        when: formatTime(j.createdAt),
        status: t(`job.status.${j.status}` as MessageKey),
        extra: own ? t('diagnose.history.own', { own: own.brand, rate: pct(own.mentionRate) }) : '',
      });
    });
    const title = t('diagnose.history.title');
    ctx.reply.markdown(title, `### ${title}\n\n${lines.join('\n')}\n\n${t('diagnose.history.footer')}`);
    return { data: jobs.map((j) => ({ id: j.id, status: j.status })) };
  },
});

export default defineCommand({
  name: 'diagnose',
  aliases: ['诊断', '品牌诊断'],
  role: 'operator',
  args: z.object({
    brands: example(listArg().optional(), '趣车良品|QCLP,竞品A,竞品B'),
    models: example(listArg().optional(), 'doubao,qwen'),
    q: example(z.string().min(1).optional(), '"深圳新能源汽车改装门店哪家好？"'),
    priority: example(intArg(0, 10).optional(), '5'),
  }),
  subcommands: [status, cancel, history],
  examples: [
    '/diagnose brands=趣车良品|QCLP,竞品A,竞品B models=doubao,qwen\n深圳新能源汽车改装门店哪家好？\n新能源汽车改装哪个品牌靠谱？',
    '/diagnose brands=趣车良品,竞品A models=doubao q="深圳新能源汽车改装门店哪家好？"',
    '/diagnose status 42',
    '/diagnose history',
  ],
  async run(ctx, args) {
    const { t, deps } = ctx;
    const spec = validateDiagnosis(
      {
        brands: args.brands ?? [],
        models: args.models ?? [],
        questions: [...(args.q ? [args.q] : []), ...ctx.body],
        priority: args.priority,
      },
      deps.models,
    );
    const { job, calls, estimatedSeconds } = await submitDiagnosis(deps, spec, ctx.caller, ctx.replyTarget);
    ctx.reply.text(
      acceptedText(
        ctx,
        'diagnose.queued',
        { id: job.id, q: spec.questions.length, m: spec.models.length, calls, eta: formatDuration(estimatedSeconds * 1000, t) },
        job.id,
      ),
    );
    return { jobId: job.id, data: { jobId: job.id, calls, estimatedSeconds } };
  },
});
