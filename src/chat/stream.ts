import { DWClient, type DWClientDownStream, TOPIC_ROBOT } from 'dingtalk-stream';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import type { StreamStatus } from '../deps';
import { errorMessage } from '../errors';
import { backoffDelay } from '../lib/backoff';

export interface StreamOptions {
  clientId: string;
  clientSecret: string;
  /** https://api.dingtalk.com/v1.0/gateway/connections/open, or a local fake in tests. */
  gatewayUrl: string;
  fetch: typeof fetch;
  log: Logger;
  now: () => number;
  /**
   * Called with the robot callback body (the frame's decoded `data`); resolves once the message is
   * recorded (the dispatch may still run). The frame is acked only then.
   */
  onRobotMessage(data: unknown): Promise<void>;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** We ping the gateway this often; no frame or pong for two intervals means the link is dead. */
  pingIntervalMs?: number;
}

/** Supervises a DingTalk Stream connection; the SDK's own reconnect and keepalive stay off. */
export interface StreamSupervisor {
  start(): void;
  stop(): Promise<void>;
  status(): StreamStatus;
}

/**
 * The real SDK client with two seams: the gateway URL is ours (the SDK hard-codes it), and a
 * frame that is not JSON is logged instead of crashing the process (SDK 2.1.5 throws).
 */
class SupervisedClient extends DWClient {
  lastError?: string;
  onFrame?: () => void;

  constructor(
    private readonly opts: StreamOptions,
    subscriptions: { type: string; topic: string }[],
  ) {
    super({ clientId: opts.clientId, clientSecret: opts.clientSecret, keepAlive: false, ua: 'chatops-bot/0.1' });
    // Per-instance subscriptions (the SDK shares one default array across clients) and no SDK reconnects.
    Object.assign(this.config, { autoReconnect: false, subscriptions });
  }

  override async getEndpoint(): Promise<this> {
    try {
      const res = await this.opts.fetch(this.opts.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          clientId: this.config.clientId,
          clientSecret: this.config.clientSecret,
          ua: this.config.ua,
          subscriptions: this.config.subscriptions,
        }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`gateway answered ${res.status}: ${text.slice(0, 200)}`);
      const { endpoint, ticket } = JSON.parse(text) as { endpoint?: string; ticket?: string };
      if (!endpoint || !ticket) throw new Error('gateway answer has no endpoint or ticket');
      (this as unknown as { dw_url: string }).dw_url = `${endpoint}?ticket=${ticket}`;
      return this;
    } catch (err) {
      this.lastError = errorMessage(err);
      throw err;
    }
  }

  override onDownStream(data: string): void {
    this.onFrame?.();
    try {
      super.onDownStream(data);
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'ignored a stream frame that is not JSON');
    }
  }

  get ws(): WebSocket | undefined {
    return (this as unknown as { socket?: WebSocket }).socket;
  }
}

/** Start Stream mode with our own supervisor: capped exponential backoff with jitter, app-level liveness. */
export function createStreamSupervisor(opts: StreamOptions): StreamSupervisor {
  const initial = opts.initialBackoffMs ?? 1000;
  const max = opts.maxBackoffMs ?? 60_000;
  const pingEvery = opts.pingIntervalMs ?? 30_000;
  const state: StreamStatus = { connected: false, reconnects: 0 };
  let client: SupervisedClient | undefined;
  let stopped = true;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let pinger: NodeJS.Timeout | undefined;
  let lastSeen = 0;

  const schedule = () => {
    if (stopped) return;
    failures += 1;
    const delay = backoffDelay({ backoff: 'exponential', baseMs: initial, maxMs: max, jitter: 0.5 }, failures, Math.random());
    clearTimeout(timer);
    timer = setTimeout(() => void connect(), delay);
    opts.log.info({ delayMs: delay, failures }, 'stream reconnect scheduled');
  };

  const onRobotFrame = (c: SupervisedClient) => (frame: DWClientDownStream) => {
    const messageId = frame.headers.messageId;
    let data: unknown;
    try {
      data = JSON.parse(frame.data);
    } catch {
      // Nothing to record: ack so DingTalk stops redelivering a frame that can never be read.
      opts.log.warn({ messageId }, 'robot frame data is not JSON');
      c.socketCallBackResponse(messageId, null);
      return;
    }
    // Record first, then ack: a process that dies before the ack gets the frame redelivered, and
    // the recorded row lets the redelivery (or the sweep) finish it. Dispatch continues afterwards.
    opts
      .onRobotMessage(data)
      .then(() => c.socketCallBackResponse(messageId, null))
      .catch((err) =>
        opts.log.error({ err: errorMessage(err), messageId }, 'robot message not recorded; not acked, DingTalk will redeliver'),
      );
  };

  const connect = async () => {
    if (stopped) return;
    const c = new SupervisedClient(opts, [{ type: 'EVENT', topic: '*' }]);
    c.registerCallbackListener(TOPIC_ROBOT, onRobotFrame(c));
    c.onFrame = () => {
      lastSeen = opts.now();
      state.lastFrameAt = lastSeen;
    };
    client = c;
    await c.connect(); // resolves whether or not it connected (SDK behaviour)
    const ws = c.ws;
    if (stopped) {
      c.disconnect();
      return;
    }
    if (!c.connected || !ws) {
      state.lastError = c.lastError ?? 'websocket did not open';
      opts.log.warn({ err: state.lastError }, 'stream connect failed');
      return schedule();
    }
    if (failures > 0 || state.since !== undefined) state.reconnects += 1;
    state.connected = true;
    state.since = opts.now();
    state.lastError = undefined;
    lastSeen = opts.now();
    opts.log.info('stream connected');
    const connectedAt = opts.now();
    ws.on('pong', () => {
      lastSeen = opts.now();
    });
    ws.on('close', () => {
      if (client !== c) return;
      state.connected = false;
      clearInterval(pinger);
      // A link that stayed up a while resets the backoff; one that drops at once keeps growing it.
      if (opts.now() - connectedAt > 10_000) failures = 0;
      opts.log.warn('stream connection closed');
      schedule();
    });
    clearInterval(pinger);
    pinger = setInterval(() => {
      if (opts.now() - lastSeen > 2 * pingEvery) {
        opts.log.warn('stream link silent, reconnecting');
        ws.terminate();
        return;
      }
      try {
        ws.ping();
      } catch {
        /* the close handler reconnects */
      }
    }, pingEvery);
    pinger.unref();
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      void connect();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(pinger);
      const c = client;
      client = undefined;
      state.connected = false;
      if (c) {
        c.config.autoReconnect = false;
        const ws = c.ws;
        if (ws && ws.readyState !== ws.CLOSED) {
          await new Promise<void>((resolve) => {
            ws.once('close', () => resolve());
            c.disconnect();
            setTimeout(resolve, 2000).unref();
          });
        }
      }
    },
    status: () => ({ ...state }),
  };
}
