import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Deps } from '../deps';
import { errorMessage, UserError } from '../errors';
import { createEmailSender } from './email';
import { listDeliveries, retryDelivery } from './outbox';
import { renderNotice } from './render';
import { robotMarkdownBody } from './robot';
import { postToRobot } from './robot-client';
import { checkDeliveryTarget } from './targets';
import { NOTICE_VARIABLES, parseNoticeTemplate } from './template';
import { noticeValues } from './values';

export const NOTICE_CLI_USAGE = `  npm run cli -- notice list [--job <id>] [--failed]                   notice deliveries: status, attempts, last error
  npm run cli -- notice retry <id>                                       queue a failed delivery again
  npm run cli -- notice template '<text>' | --file <path>                check a notice template and show it rendered
  npm run cli -- notice test robot '<webhook>' [--secret SEC…]           send a signed test message to a group robot
  npm run cli -- notice test email <a@x.com,…>                           send a test e-mail through SMTP_*`;

type CliDeps = Pick<Deps, 'db' | 'config' | 't' | 'fetch' | 'now'>;

/**
 * `npm run cli -- notice …`: look at and retry deliveries, check a template, and try a robot or the
 * SMTP settings before a task relies on them. Returns the exit code; a UserError prints its text.
 */
export async function runNoticeCli(deps: CliDeps, argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { job: { type: 'string' }, failed: { type: 'boolean' }, secret: { type: 'string' }, file: { type: 'string' } },
  });
  const [action, ...rest] = positionals;
  try {
    if (action === 'list') {
      const rows = await listDeliveries(deps.db, { jobId: values.job === undefined ? undefined : Number(values.job), limit: 100 });
      const shown = values.failed ? rows.filter((r) => r.status === 'failed') : rows;
      if (shown.length === 0) out('no notice deliveries');
      for (const r of shown) {
        out(
          [
            `#${r.id}`,
            `job ${r.jobId ?? '-'}`,
            r.channel,
            r.label,
            r.status,
            `${r.attempts} attempts`,
            r.createdAt.toISOString(),
            r.lastError ?? '',
          ].join('\t'),
        );
      }
      return 0;
    }
    if (action === 'retry' && rest[0]) {
      if (!(await retryDelivery(deps.db, Number(rest[0])))) {
        out(`no failed delivery #${rest[0]} (see: npm run cli -- notice list --failed)`);
        return 1;
      }
      out(`delivery #${rest[0]} queued again; a running bot sends it`);
      return 0;
    }
    if (action === 'template' && (rest[0] || values.file)) {
      const source = values.file ? readFileSync(values.file, 'utf8') : (rest[0] as string);
      const r = renderNotice(parseNoticeTemplate(source), noticeValues(sampleFacts(deps.now()), deps.t.locale), 'notice');
      out(`template ok; variables: ${NOTICE_VARIABLES.map((v) => `{${v}}`).join(' ')}\n--- title\n${r.title}\n--- markdown\n${r.markdown}`);
      return 0;
    }
    if (action === 'test' && rest[0] === 'robot' && rest[1]) {
      const target = checkDeliveryTarget({ kind: 'robot', webhook: rest[1], secret: values.secret }, deps.config.DINGTALK_OAPI_BASE);
      if (target.kind !== 'robot') return 1;
      const r = renderNotice(
        parseNoticeTemplate(deps.t('notify.template.succeeded')),
        noticeValues(sampleFacts(deps.now()), deps.t.locale),
        'test',
      );
      const verdict = await postToRobot(
        { fetch: deps.fetch, oapiBase: deps.config.DINGTALK_OAPI_BASE, now: deps.now, timeoutMs: 15_000 },
        target,
        robotMarkdownBody(r.title, r.markdown, `notice-test-${deps.now()}`),
      );
      if (verdict.kind === 'ok') {
        out('robot accepted the test message (errcode 0)');
        return 0;
      }
      const hint = verdict.kind === 'fail' ? ` ${deps.t(`notify.hint.${verdict.hint}`)}` : '';
      out(`robot did not take the test message: ${verdict.message}.${hint}`);
      return 2;
    }
    if (action === 'test' && rest[0] === 'email' && rest[1]) {
      const target = checkDeliveryTarget({ kind: 'email', to: rest[1] }, deps.config.DINGTALK_OAPI_BASE);
      const r = renderNotice(
        parseNoticeTemplate(deps.t('notify.template.succeeded')),
        noticeValues(sampleFacts(deps.now()), deps.t.locale),
        'test',
      );
      const sender = createEmailSender(deps.config);
      try {
        await sender.send({
          to: target.kind === 'email' ? target.to : [],
          subject: r.title,
          text: r.text,
          html: r.html,
          messageId: `<notice-test-${deps.now()}@chatops-bot>`,
        });
      } finally {
        sender.close();
      }
      out(`test e-mail accepted by ${deps.config.SMTP_HOST}:${deps.config.SMTP_PORT} for ${rest[1]}`);
      return 0;
    }
  } catch (err) {
    if (err instanceof UserError) {
      out(deps.t(err.key, err.vars));
      return 1;
    }
    out(`failed: ${errorMessage(err)}`);
    return 2;
  }
  out(`usage:\n${NOTICE_CLI_USAGE}`);
  return 1;
}

function sampleFacts(now: number) {
  return {
    taskName: '示例任务',
    executedAt: now,
    outcome: 'succeeded' as const,
    rows: 1234,
    bytes: 2_621_440,
    durationMs: 3200,
    filename: 'example.xlsx',
    downloadUrl: 'https://bot.example.com/files/example',
    jobId: 42,
  };
}
