// Measures spacecast's index.html in headless Chromium for pkg/site's TestPageInChromium, which
// runs it through internal/testutil/browser.Script and judges the numbers. Configuration (JSON
// in SPACECAST_SCRIPT): {"url": "http://127.0.0.1:PORT/", "timeoutMs": 60000}. Writes one JSON
// report to stdout; anything that goes wrong in the script itself exits non-zero.
'use strict';
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.env.SPACECAST_SCRIPT || '{}');
const timeout = cfg.timeoutMs || 60000;
const began = Date.now();
// step notes progress on stderr, which the Go test shows when the script fails or hangs.
const step = (what) => process.stderr.write(`${((Date.now() - began) / 1000).toFixed(2)} s: ${what}\n`);

// pageState runs in the page: the players, the chapter and soundbite links, the headings in
// document order and the text whose contrast is under 4.5:1.
function pageState() {
  const articleOf = (el) => (el.closest('article') || {}).id || '';
  const audios = [...document.querySelectorAll('audio')].map((a) => ({
    article: articleOf(a),
    src: a.getAttribute('src') || '',
    currentSrc: a.currentSrc,
    duration: a.duration,
    error: a.error ? `MediaError ${a.error.code}: ${a.error.message}` : '',
  }));
  const links = [...document.querySelectorAll('article section a.seek')].map((a) => ({
    article: articleOf(a),
    kind: a.closest('section').classList.contains('soundbites') ? 'soundbites' : 'chapters',
    href: a.href,
  }));
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .filter((h) => h.getClientRects().length > 0)
    .map((h) => Number(h.tagName[1]));

  // WCAG 2.2 relative luminance and contrast ratio.
  const rgba = (c) => {
    const m = /^rgba?\(([^)]+)\)$/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) return c;
    }
    return matchMedia('(prefers-color-scheme: dark)').matches ? [0, 0, 0, 1] : [255, 255, 255, 1];
  };
  const contrast = [];
  for (const el of document.body.querySelectorAll('*')) {
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join('').trim();
    const r = el.getBoundingClientRect();
    if (!text || r.width <= 1 || r.height <= 1 || getComputedStyle(el).visibility === 'hidden') continue;
    let fg = rgba(getComputedStyle(el).color);
    const bg = background(el);
    if (!fg) {
      contrast.push(`${el.tagName.toLowerCase()} "${text.slice(0, 30)}": colour ${getComputedStyle(el).color} not understood`);
      continue;
    }
    if (fg[3] < 1) fg = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
    const [a, b] = [lum(fg), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) {
      contrast.push(`${el.tagName.toLowerCase()}.${el.className} "${text.slice(0, 30)}": ${getComputedStyle(el).color} on ${bg} is ${ratio.toFixed(2)}:1`);
    }
  }
  return { audios, links, headings, contrast };
}

// waitMetadata resolves once every player has its metadata (or an error).
function waitMetadata() {
  return Promise.all([...document.querySelectorAll('audio')].map((a) => new Promise((resolve) => {
    if (a.readyState >= 1 || a.error) return resolve();
    a.addEventListener('loadedmetadata', resolve, { once: true });
    a.addEventListener('error', resolve, { once: true });
  })));
}

// axNames reads Chromium's own accessibility tree: every link, button and media element must have
// a name (the media controls' inner buttons included).
async function axNames(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Accessibility.enable');
  const { nodes } = await cdp.send('Accessibility.getFullAXTree');
  await cdp.detach();
  const roles = new Set(['link', 'button', 'Audio', 'Video', 'audio', 'video', 'slider', 'checkbox', 'textbox', 'menuitem']);
  const unnamed = [];
  const audioNames = [];
  let named = 0;
  for (const n of nodes) {
    const role = n.role && n.role.value;
    if (n.ignored || !roles.has(role)) continue;
    named++;
    const name = ((n.name && n.name.value) || '').trim();
    if (!name) unnamed.push(`${role} (DOM node ${n.backendDOMNodeId})`);
    if (/^(audio|Audio)$/.test(role)) audioNames.push(name);
  }
  return { unnamed, named, audioNames };
}

async function load(browser, js, colorScheme) {
  const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1000, height: 800 }, colorScheme });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  const r = { console: [], failed: [], requests: [], aborted: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') r.console.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => r.console.push(`page error: ${e.message}`));
  page.on('request', (q) => r.requests.push(q.url()));
  page.on('requestfailed', (q) => {
    const why = q.failure() && q.failure().errorText;
    // With preload="metadata" Chromium stops fetching the audio once it has what it needs: its
    // own cancellation of a media request is not a failure.
    if (q.resourceType() === 'media' && why === 'net::ERR_ABORTED') r.aborted.push(q.url());
    else r.failed.push(`${q.url()} (${q.resourceType()}): ${why}`);
  });
  page.on('response', (s) => {
    if (s.status() >= 400) r.failed.push(`${s.url()}: HTTP ${s.status()}`);
  });
  step(`load ${cfg.url} (JavaScript ${js ? 'on' : 'off'}, ${colorScheme})`);
  await page.goto(cfg.url, { waitUntil: 'load' });
  step('wait for every player\'s metadata');
  await page.evaluate(waitMetadata);
  return { context, page, r };
}

// clickEach clicks every chapter and soundbite link in turn and watches its player.
async function clickEach(page) {
  const seeks = [];
  const links = page.locator('article section a.seek');
  const n = await links.count();
  for (let i = 0; i < n; i++) {
    const link = links.nth(i);
    const info = await link.evaluate((a) => {
      const players = [...document.querySelectorAll('audio')];
      players.forEach((p) => p.pause());
      const audio = a.closest('article').querySelector('audio');
      window.__seek = { seeked: -1, played: false, pauseAt: -1 };
      window.__before = players.map((p) => p.currentTime);
      audio.addEventListener('seeked', () => { if (window.__seek.seeked < 0) window.__seek.seeked = audio.currentTime; }, { once: true });
      audio.addEventListener('playing', () => { window.__seek.played = true; }, { once: true });
      audio.addEventListener('pause', () => { if (window.__seek.pauseAt < 0) window.__seek.pauseAt = audio.currentTime; }, { once: true });
      return {
        article: a.closest('article').id,
        kind: a.closest('section').classList.contains('soundbites') ? 'soundbites' : 'chapters',
        start: Number(a.dataset.start),
        end: a.dataset.end ? Number(a.dataset.end) : -1,
      };
    });
    step(`click ${info.kind} link ${i + 1} of ${n} (${info.article}, ${info.start}-${info.end})`);
    await link.click();
    // A player that never seeks, plays or pauses is reported (seeked or pauseAt stay -1), not
    // waited for.
    await page.waitForFunction(() => window.__seek.seeked >= 0 && window.__seek.played, null, { timeout: 10000 })
      .catch(() => step('  no seek and play within 10 s'));
    if (info.kind === 'soundbites') {
      await page.waitForFunction(() => window.__seek.pauseAt >= 0, null, { timeout: 1000 * (info.end - info.start) + 10000 })
        .catch(() => step('  no pause'));
    }
    if (page.url() !== cfg.url) {
      // The browser followed the link: player.js did not take the click.
      seeks.push({ ...info, seeked: -1, pauseAt: -1, played: false, left: page.url() });
      await page.goto(cfg.url, { waitUntil: 'load' });
      await page.evaluate(waitMetadata);
      continue;
    }
    const after = await page.evaluate((id) => {
      const players = [...document.querySelectorAll('audio')];
      const others = [];
      players.forEach((p, j) => {
        const art = p.closest('article').id;
        if (art !== id && (!p.paused || p.currentTime !== window.__before[j])) {
          others.push(`${art}: ${window.__before[j]} -> ${p.currentTime}${p.paused ? '' : ', playing'}`);
        }
      });
      players.forEach((p) => p.pause());
      return { ...window.__seek, others };
    }, info.article);
    seeks.push({ ...info, ...after });
  }
  return seeks;
}

// keyboard tabs from the top of the page to the first soundbite link, checking that every link
// it passes shows a focus outline, and presses Enter on it.
async function keyboard(page) {
  const k = { first: '', tabs: 0, noOutline: [], seeked: -1, start: -1 };
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    return {
      desc: `${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''} "${(el.textContent || '').trim().slice(0, 40)}"`,
      link: el.tagName === 'A',
      outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
      target: el.matches('section.soundbites a.seek'),
    };
  });
  step('keyboard: Tab to the first soundbite');
  for (let i = 1; i <= 200; i++) {
    await page.keyboard.press('Tab');
    const f = await focused();
    if (!f) continue;
    if (i === 1) k.first = f.desc;
    if (f.link && !f.outline) k.noOutline.push(f.desc);
    if (f.target) {
      k.tabs = i;
      break;
    }
  }
  if (!k.tabs) return k;
  k.start = await page.evaluate(() => {
    const a = document.activeElement;
    const audio = a.closest('article').querySelector('audio');
    window.__key = -1;
    audio.addEventListener('seeked', () => { window.__key = audio.currentTime; }, { once: true });
    return Number(a.dataset.start);
  });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.__key >= 0, null, { timeout: 10000 })
    .catch(() => step('  no seek within 10 s of Enter'));
  k.seeked = await page.evaluate(() => {
    document.querySelectorAll('audio').forEach((p) => p.pause());
    return window.__key;
  });
  return k;
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.SPACECAST_CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    timeout,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--disable-dev-shm-usage'],
  });
  const report = { browser: browser.version() };
  try {
    // With JavaScript: the page as a listener sees it.
    {
      const { context, page, r } = await load(browser, true, 'light');
      step('page state, accessibility tree');
      Object.assign(r, await page.evaluate(pageState));
      const ax = await axNames(context, page);
      r.unnamed = ax.unnamed;
      r.named = ax.named;
      ax.audioNames.forEach((name, i) => { if (r.audios[i]) r.audios[i].name = name; });
      r.seeks = await clickEach(page);
      await page.reload({ waitUntil: 'load' });
      await page.evaluate(waitMetadata);
      r.keyboard = await keyboard(page);
      step('dark scheme, 320 px');
      await page.emulateMedia({ colorScheme: 'dark' });
      report.darkContrast = (await page.evaluate(pageState)).contrast;
      await page.setViewportSize({ width: 320, height: 700 });
      report.narrow = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      report.js = r;
      await context.close();
    }
    // Without JavaScript: the links are plain media fragments, and a click goes to the audio.
    {
      const { context, page, r } = await load(browser, false, 'light');
      Object.assign(r, await page.evaluate(pageState));
      const ax = await axNames(context, page);
      r.unnamed = ax.unnamed;
      r.named = ax.named;
      report.nojs = { ...r, console: [...r.console], failed: [...r.failed], requests: [...r.requests] };
      const first = page.locator('section.soundbites a.seek').first();
      if (await first.count()) {
        step('without JavaScript: click the first soundbite');
        await first.click();
        await page.waitForURL(/#t=/, { waitUntil: 'commit' });
        report.nojs.navigated = page.url();
      }
      await context.close();
    }
    // Where that URL starts the audio: Chromium shows the file in its own media document, which
    // honours #t=. Measured in a context with scripting on, which only the measuring needs: in one
    // with JavaScript off, evaluating in the media document hung in about one run of three.
    if (report.nojs.navigated) {
      step(`open ${report.nojs.navigated}`);
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(timeout);
      await page.goto(report.nojs.navigated, { waitUntil: 'domcontentloaded' });
      const measured = page.evaluate(() => new Promise((resolve) => {
        const m = document.querySelector('video, audio');
        if (!m) return resolve({ error: `no media element in ${document.URL}` });
        const done = () => resolve({ currentTime: m.currentTime });
        if (m.readyState >= 1) return done();
        m.addEventListener('loadedmetadata', done, { once: true });
        m.addEventListener('error', () => resolve({ error: `MediaError ${m.error && m.error.code}` }), { once: true });
      }));
      const late = new Promise((resolve) => setTimeout(() => resolve({ error: 'the media document had no metadata within 15 s' }), 15000).unref());
      report.nojs.fragment = await Promise.race([measured, late]);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
});
