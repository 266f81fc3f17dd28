// The node side of a spacecast test speaker (internal/testutil/browser): launches headless
// Chromium through playwright-core with the WAV file as its fake microphone, loads speaker.html
// from file://, and runs the commands the Go test writes to stdin, one JSON object a line:
//   {"id": 1, "cmd": "join"|"leave"|"republish"|"mute"|"stats"|"probe"|"quit"|"crash", "arg": ...}
// Every answer and every log line goes to stdout as one JSON object a line:
//   {"ready": true, "browser": "156.0..."}   once the page is loaded
//   {"id": 1, "ok": {...}} or {"id": 1, "error": "..."}
//   {"log": "..."}                           the page's console, page errors, browser events
// The configuration comes in the environment variable SPACECAST_SPEAKER (JSON):
//   {"chromium": PATH, "wav": PATH, "url": "ws://...", "token": "...", "red": true, "dtx": true, "timeoutMs": 30000, "launchTimeoutMs": 60000}
// Closing stdin, "quit", SIGTERM and SIGINT leave the room and close the browser before node
// exits; "crash" closes the browser without leaving, as a crashed tab would.
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';

const send = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const here = path.dirname(fileURLToPath(import.meta.url));

let cfg;
try {
  cfg = JSON.parse(process.env.SPACECAST_SPEAKER || '');
} catch (e) {
  send({ fatal: `speaker.mjs: environment variable SPACECAST_SPEAKER is not JSON (${e.message}); it is set by internal/testutil/browser` });
  process.exit(2);
}

let browser = null;
let page = null;
let closing = null;
// shutdown leaves the room (unless crash is set, or it takes over 2 s), closes the browser and
// exits.
function shutdown(code, crash) {
  if (!closing) {
    closing = (async () => {
      if (page && !crash) {
        const left = page.evaluate(() => window.spacecast && window.spacecast.close());
        await Promise.race([left, new Promise((r) => setTimeout(r, 2000))]).catch(() => {});
      }
      if (browser) await browser.close().catch(() => {});
      process.exit(code);
    })();
  }
  return closing;
}
process.on('SIGTERM', () => shutdown(143));
process.on('SIGINT', () => shutdown(130));

try {
  browser = await chromium.launch({
    executablePath: cfg.chromium,
    headless: true,
    chromiumSandbox: false,
    timeout: cfg.launchTimeoutMs,
    args: [
      '--headless',
      '--no-sandbox',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${cfg.wav}`,
      '--allow-loopback-in-peer-connection',
      // Host candidates with real addresses, never mDNS names (and no multicast queries).
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--disable-dev-shm-usage',
    ],
  });
  browser.on('disconnected', () => {
    send({ log: 'browser: disconnected (Chromium exited)' });
    if (!closing) process.exit(3);
  });
  page = await browser.newPage();
  page.on('console', (m) => send({ log: `console.${m.type()}: ${m.text()}` }));
  page.on('pageerror', (e) => send({ log: `page error: ${e.message}` }));
  page.on('crash', () => send({ log: 'page crashed' }));
  page.setDefaultTimeout(cfg.launchTimeoutMs);
  await page.goto(pathToFileURL(path.join(here, 'speaker.html')).href);
  page.setDefaultTimeout(cfg.timeoutMs);
  if (!(await page.evaluate(() => !!(window.spacecast && window.spacecast.ready)))) {
    throw new Error('speaker.html loaded without livekit-client (run: npm ci --prefix testdata/browser)');
  }
  send({ ready: true, browser: browser.version() });

  // Commands run one at a time, in order.
  let queue = Promise.resolve();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      send({ log: `speaker.mjs: ignored a command line that is not JSON: ${e.message}` });
      return;
    }
    if (msg.cmd === 'quit' || msg.cmd === 'crash') {
      // Not queued: these close the browser under a command in flight.
      shutdown(0, msg.cmd === 'crash');
      return;
    }
    queue = queue.then(async () => {
      const arg = msg.cmd === 'join' ? { url: cfg.url, token: cfg.token, red: cfg.red, dtx: cfg.dtx, timeoutMs: cfg.timeoutMs } : msg.arg;
      try {
        const ok = await page.evaluate(([c, a]) => {
          const f = window.spacecast[c];
          if (typeof f !== 'function') throw new Error(`unknown command ${c}`);
          return f(a);
        }, [msg.cmd, arg]);
        send({ id: msg.id, ok: ok ?? {} });
      } catch (e) {
        // Playwright wraps page errors in "page.evaluate: Error: ..." plus a call log; keep the
        // error's first line.
        send({ id: msg.id, error: String(e && e.message || e).split('\n')[0].replace(/^page\.evaluate: /, '') });
      }
    });
  });
  rl.on('close', () => shutdown(0));
} catch (e) {
  send({ fatal: String(e && e.message || e) });
  await shutdown(1);
}
