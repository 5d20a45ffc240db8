import { wallParts } from '../lib/zone-time';
import type { NoticeValues } from './template';

/** What happened, as numbers and dates; `noticeValues` turns it into the template's display text. */
export interface NoticeFacts {
  taskName: string;
  /** When the run started (ms since the epoch). */
  executedAt: number;
  /** IANA zone the times are shown in (the task's zone). */
  timeZone?: string;
  outcome: 'succeeded' | 'failed';
  rows?: number;
  bytes?: number;
  durationMs?: number;
  filename?: string;
  downloadUrl?: string;
  /** When the download link stops working (ms since the epoch). */
  expiresAt?: number;
  jobId?: number;
  requester?: string;
  error?: string;
}

/**
 * Display values the way the old tool showed them: "1,000" rows, "2.5MB", "3.2秒", times as
 * "2025-08-12 15:30:00" in the task's zone. Pure.
 */
export function noticeValues(f: NoticeFacts, locale: 'zh-CN' | 'en'): NoticeValues {
  const zone = f.timeZone ?? 'Asia/Shanghai';
  const time = formatDateTime(f.executedAt, zone);
  return {
    task_name: f.taskName,
    execution_time: time,
    date: time.slice(0, 10),
    rows_count: f.rows === undefined ? undefined : f.rows.toLocaleString('en-US'),
    file_size: f.bytes === undefined ? undefined : formatBytes(f.bytes),
    duration: f.durationMs === undefined ? undefined : formatDuration(f.durationMs, locale),
    filename: f.filename,
    download_url: f.downloadUrl,
    expires_at: f.expiresAt === undefined ? undefined : formatDateTime(f.expiresAt, zone),
    job_id: f.jobId === undefined ? undefined : String(f.jobId),
    requester: f.requester,
    status: statusText(f.outcome, locale),
    error: f.error,
  };
}

/** "2025-08-12 15:30:00" in the given zone. */
export function formatDateTime(ms: number, timeZone: string): string {
  const w = wallParts(ms, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(w.year).padStart(4, '0')}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}:${two(w.second)}`;
}

/** 2.5MB, 812KB, 96B: one decimal below 10 units, as the old tool printed them. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const shown = i === 0 ? String(v) : v < 10 ? v.toFixed(1).replace(/\.0$/, '') : String(Math.round(v));
  return `${shown}${units[i]}`;
}

/** 39毫秒 / 3.2秒 / 2分5秒 / 1小时2分 (en: 39 ms / 3.2 s / 2 min 5 s / 1 h 2 min). */
export function formatDuration(ms: number, locale: 'zh-CN' | 'en'): string {
  const zh = locale === 'zh-CN';
  // Under a second "0秒" would say nothing: a fast export shows its milliseconds.
  if (ms < 950) {
    const n = Math.max(0, Math.round(ms));
    return zh ? `${n}毫秒` : `${n} ms`;
  }
  if (ms < 60_000) {
    const s = (ms / 1000).toFixed(1).replace(/\.0$/, '');
    return zh ? `${s}秒` : `${s} s`;
  }
  const totalS = Math.round(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  if (h > 0) return zh ? `${h}小时${m}分` : `${h} h ${m} min`;
  return zh ? `${m}分${s}秒` : `${m} min ${s} s`;
}

function statusText(outcome: NoticeFacts['outcome'], locale: 'zh-CN' | 'en'): string {
  if (locale === 'en') return outcome === 'succeeded' ? 'succeeded' : 'failed';
  return outcome === 'succeeded' ? '成功' : '失败';
}
