import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors';
import { createTranslator } from '../../src/i18n';
import { markdownToHtml, renderNotice } from '../../src/notify/render';
import { robotSendUrl, robotSign } from '../../src/notify/robot';
import { fillNoticeTemplate, NOTICE_VARIABLES, parseNoticeTemplate, templateVariables } from '../../src/notify/template';
import { formatBytes, formatDuration, noticeValues } from '../../src/notify/values';

const values = {
  task_name: '用户数据导出',
  execution_time: '2025-08-12 15:30:00',
  rows_count: '1,000',
  file_size: '2.5MB',
  duration: '3.2秒',
  filename: 'export_20250812.xlsx',
  download_url: 'https://bot.example.com/files/1?sig=a&exp=2',
};

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

describe('notice templates', () => {
  it("fills the old tool's template variables, in both brace styles and with the short names", () => {
    const cases: [string, string][] = [
      ['{task_name} 共 {rows_count} 行', '用户数据导出 共 1,000 行'],
      ['{{task_name}} / {{ rows_count }}', '用户数据导出 / 1,000'],
      ['{task}:{rows}:{url}', `用户数据导出:1,000:${values.download_url}`],
      ['{filename} {file_size} {duration} {execution_time}', 'export_20250812.xlsx 2.5MB 3.2秒 2025-08-12 15:30:00'],
      ['JSON stays: {"a": 1} and { }', 'JSON stays: {"a": 1} and { }'],
      ['missing {error}', 'missing -'],
    ];
    for (const [src, want] of cases) expect(fillNoticeTemplate(parseNoticeTemplate(src), values)).toBe(want);
    expect(templateVariables(parseNoticeTemplate('{task} {task_name} {url}'))).toEqual(['task_name', 'download_url']);
  });

  it('refuses an unknown variable at save time, naming it, its line, the nearest one and the list', () => {
    const err = userError(() => parseNoticeTemplate('### 完成\n行数 {row_count}'));
    expect(err.code).toBe('bad_args');
    expect(err.field).toBe('template');
    const text = createTranslator('zh-CN')(err.key, err.vars);
    expect(text).toContain('{row_count}');
    expect(text).toContain('第 2 行');
    expect(text).toContain('{rows_count}');
    for (const v of NOTICE_VARIABLES) expect(text).toContain(`{${v}}`);
    expect(createTranslator('en')(err.key, err.vars)).toMatch(/Line 2 .*\{row_count\}.*did you mean \{rows_count\}/);
    expect(userError(() => parseNoticeTemplate('{rowz}')).vars.near).toBe('{rows_count}');
    expect(userError(() => parseNoticeTemplate('{{taskname}}')).vars.near).toBe('{task_name}');
    expect(userError(() => parseNoticeTemplate('  ')).key).toBe('notify.template.empty');
    expect(userError(() => parseNoticeTemplate('x'.repeat(5000))).key).toBe('notify.template.tooLong');
  });

  it('renders markdown for DingTalk and escaped text/HTML for e-mail', () => {
    const t = parseNoticeTemplate('### 📊 {task_name} 执行完成\n\n**数据行数**: {rows_count}\n- 文件 {filename}\n\n[下载]({download_url})');
    const r = renderNotice(t, { ...values, filename: '<b>x</b>.xlsx' }, 'fallback');
    expect(r.title).toBe('📊 用户数据导出 执行完成');
    expect(r.markdown).toContain('**数据行数**: 1,000');
    expect(r.markdown).toContain(`[下载](${values.download_url})`);
    expect(r.text).toContain('数据行数: 1,000');
    expect(r.text).toContain(`下载: ${values.download_url}`);
    expect(r.html).toContain('<h3>📊 用户数据导出 执行完成</h3>');
    expect(r.html).toContain('<strong>数据行数</strong>: 1,000');
    expect(r.html).toContain('<li>文件 &lt;b&gt;x&lt;/b&gt;.xlsx</li>');
    expect(r.html).toContain('<a href="https://bot.example.com/files/1?sig=a&amp;exp=2">下载</a>');
    // A value cannot start a new markdown block.
    expect(renderNotice(parseNoticeTemplate('x {error}'), { error: 'a\n# b' }, 'f').markdown).toBe('x a # b');
    expect(markdownToHtml('> 引用\n1. a\n2. b')).toContain('<blockquote>引用</blockquote>\n<ol>\n<li>a</li>');
  });

  it('formats values as the old tool showed them', () => {
    expect(formatBytes(2_621_440)).toBe('2.5MB');
    expect(formatBytes(812 * 1024)).toBe('812KB');
    expect(formatBytes(96)).toBe('96B');
    expect(formatDuration(3200, 'zh-CN')).toBe('3.2秒');
    expect(formatDuration(39, 'zh-CN')).toBe('39毫秒'); // not "0秒"
    expect(formatDuration(39, 'en')).toBe('39 ms');
    expect(formatDuration(125_000, 'zh-CN')).toBe('2分5秒');
    expect(formatDuration(3_720_000, 'en')).toBe('1 h 2 min');
    const v = noticeValues(
      { taskName: 't', executedAt: Date.UTC(2025, 7, 12, 7, 30, 0), outcome: 'succeeded', rows: 1000, jobId: 42 },
      'zh-CN',
    );
    expect(v).toMatchObject({
      execution_time: '2025-08-12 15:30:00',
      date: '2025-08-12',
      rows_count: '1,000',
      job_id: '42',
      status: '成功',
    });
  });

  it('signs custom-robot requests as DINGTALK.md 7.2 pins', () => {
    expect(robotSign('this is secret', 1577262236757)).toBe('hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D');
    expect(robotSign('SECtest-webhook-secret', 1700000000000)).toBe('Hd1WIngG0t4fKqhh%2BJ0Ige%2FNxU1H8BxTcQeoV6b%2FcdM%3D');
    expect(robotSendUrl('https://oapi.dingtalk.com', { accessToken: 'tok', secret: 'SEC1234567890abcdef' }, 1700000000000)).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=tok&timestamp=1700000000000&sign=RqBq3E1RTBDv3n2QBCh4adZ2WHk9mVklyUoDBLxarjI%3D',
    );
    expect(robotSendUrl('https://oapi.dingtalk.com/', { accessToken: 'tok' }, 1)).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=tok',
    );
  });
});
