import { parseCommand } from '../src/chat/parse-command';

/** Chat-line parsing throughput (pure CPU): lines per second over a mix of real command shapes. */
export async function run() {
  const lines = [
    '@机器人 /push refund store=12 sku=A001*2,B002 count=5',
    '／push　退款单　门店＝12　sku＝A001＊2，B002',
    '/diagnose brands=趣车良品,竞品A models=doubao,qwen\n哪家二手车平台靠谱？\n推荐一个买车的平台',
    '/push refund buyer.buyerName="张 三" shopName=“趣车 良品” dry',
    '/help push',
  ];
  const n = 200_000;
  for (let i = 0; i < 10_000; i++) parseCommand(lines[i % lines.length] as string);
  const started = performance.now();
  for (let i = 0; i < n; i++) parseCommand(lines[i % lines.length] as string);
  const seconds = (performance.now() - started) / 1000;
  return { bench: 'parse', lines: n, seconds: Number(seconds.toFixed(3)), linesPerSecond: Math.round(n / seconds) };
}
