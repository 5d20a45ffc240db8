import { createHash } from 'node:crypto';
import type { Generator, Preset } from './preset-schema';

/** Per-message inputs of rendering. */
export interface RenderContext {
  /** 0-based message index. */
  index: number;
  /** First number of the range reserved for this push (see order-numbers.ts). */
  seqStart: number;
  /** yyyyMMdd of the push (Asia/Shanghai), part of every order number. */
  date: string;
  nowMs: number;
  /** Seeds the `digits` generators so a re-rendered message is identical. */
  jobKey: string;
  /**
   * This install's tag (order-numbers.ts), written between the date and the sequence so two
   * installs never number alike. Absent only for pushes started before tags existed: those render
   * as they did (no tag, one message's sequence numbers side by side) so a resumed push republishes
   * exactly what it published before.
   */
  installTag?: string;
}

/** Placeholder name -> value for one message. */
export type GeneratedValues = Record<string, string | number>;

const SHANGHAI_OFFSET_MS = 8 * 3_600_000; // China has no daylight saving time

/** yyyyMMdd in Asia/Shanghai. */
export function shanghaiDate(ms: number): string {
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10).replace(/-/g, '');
}

/** Format an instant as the order system expects (Asia/Shanghai wall clock). */
export function formatTime(ms: number, format: Extract<Generator, { type: 'datetime' }>['format']): string | number {
  if (format === 'epochMillis') return ms;
  const iso = new Date(ms + SHANGHAI_OFFSET_MS).toISOString();
  if (format === 'yyyy-MM-dd HH:mm:ss') return iso.slice(0, 19).replace('T', ' ');
  if (format === 'yyyy-MM-dd') return iso.slice(0, 10);
  if (format === 'yyyyMMddHHmmss') return iso.slice(0, 19).replace(/\D/g, '');
  return `${iso.slice(0, 19)}+08:00`;
}

/** How many numbers one message takes from the counter: one per sequence generator. */
export function numbersPerMessage(p: Preset): number {
  return Math.max(1, Object.values(p.generators).filter((g) => g.type === 'sequence').length);
}

function digitsFor(seed: string, length: number): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    for (const byte of createHash('sha1').update(`${seed}:${round}`).digest()) {
      if (out.length === length) break;
      out += String(byte % 10);
    }
  }
  return out;
}

/**
 * The counter value of sequence generator `k` (0-based among the preset's sequences) for a message.
 * Each sequence takes its own block of `count` numbers, so one prefix's numbers are consecutive:
 * a 3-message refund is TK…01–TK…03 and PO…04–PO…06, and "first … last" spans exactly the push.
 */
function sequenceNumber(ctx: RenderContext, k: number, perMessage: number, count: number): number {
  if (ctx.installTag === undefined) return ctx.seqStart + ctx.index * perMessage + k; // before tags: side by side
  return ctx.seqStart + k * count + ctx.index;
}

/**
 * The values of every generator (and `index`) for one message: THE generator logic, used by both
 * renderers (renderMessage and compileRenderer) so they cannot drift apart.
 */
export function generatedValues(p: Preset, count: number, ctx: RenderContext): GeneratedValues {
  const vars: GeneratedValues = { index: ctx.index + 1 };
  const perMessage = numbersPerMessage(p);
  const tag = ctx.installTag ?? '';
  let k = 0;
  for (const [name, g] of Object.entries(p.generators)) {
    if (g.type === 'sequence') {
      const n = sequenceNumber(ctx, k++, perMessage, count);
      vars[name] = `${g.prefix}${ctx.date}${tag}${String(n).padStart(g.digits, '0')}`;
    } else if (g.type === 'datetime') {
      vars[name] = formatTime(ctx.nowMs + g.offsetMinutes * 60_000, g.format);
    } else {
      vars[name] = g.prefix + digitsFor(`${ctx.jobKey}:${ctx.index}:${name}`, g.length);
    }
  }
  return vars;
}
