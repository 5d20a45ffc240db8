import net from 'node:net';

/** Result of asking a broker to start an AMQP handshake. */
export interface AmqpProbe {
  ok: boolean;
  latencyMs?: number;
  /** Internal detail for the log (never shown to callers). */
  detail?: string;
}

// AMQP 0-9-1 protocol header; a broker answers with a Connection.Start method frame (type 1).
const HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/**
 * Is the broker at `url` up? Opens a TCP connection, sends the AMQP protocol header and waits for
 * the broker's first frame: no login, no channel, so it is cheap enough for /health.
 */
export function probeAmqp(url: string, timeoutMs = 2000): Promise<AmqpProbe> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'amqps:' ? 5671 : 5672));
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port });
    const done = (r: AmqpProbe) => {
      socket.destroy();
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => {
      // TLS brokers (amqps) need a TLS handshake first: a TCP connect is as far as we check.
      if (u.protocol === 'amqps:') return done({ ok: true, latencyMs: Math.round(performance.now() - started) });
      socket.write(HEADER);
    });
    socket.once('data', (d) =>
      done(
        d[0] === 1 ? { ok: true, latencyMs: Math.round(performance.now() - started) } : { ok: false, detail: 'not an AMQP 0-9-1 broker' },
      ),
    );
    socket.once('error', (err) => done({ ok: false, detail: err.message }));
  });
}
