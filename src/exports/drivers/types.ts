import type { Column } from '../cells';

/** Connection settings of one data source, password already decrypted (never logged). */
export interface SourceConfig {
  name: string;
  kind: 'postgres' | 'mysql';
  host: string;
  port: number;
  database: string;
  username: string;
  password?: string;
  options?: Record<string, unknown>;
}

export interface RunOptions {
  /** Statement timeout, enforced by the database server. */
  timeoutMs: number;
  /** Aborting cancels the statement on the server. */
  signal?: AbortSignal;
  /** Rows per fetch. */
  batchSize: number;
}

/** A batch of rows (one array per row, in column order). Awaited before the next is fetched. */
export type OnBatch = (columns: Column[], rows: unknown[][]) => Promise<void> | void;

/** One open connection to a data source. */
export interface SourceClient {
  /** Placeholder style and SQL dialect. */
  readonly dialect: 'postgres' | 'mysql';
  /** `select 1`; resolves to the round trip in ms. */
  ping(): Promise<number>;
  /**
   * Run `text` with positional `params` in a read-only transaction under a statement timeout,
   * streaming rows by cursor into `onBatch`. Returning early is not possible: abort the signal.
   */
  stream(text: string, params: unknown[], opts: RunOptions, onBatch: OnBatch): Promise<void>;
  close(): Promise<void>;
}

/** The database said no, or could not be reached: `message` is in plain words for chat. */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly code: 'unreachable' | 'auth' | 'timeout' | 'cancelled' | 'read_only' | 'sql',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SourceError';
  }
}
