// The page side of a spacecast test speaker (internal/testutil/browser). speaker.mjs calls the
// functions on window.spacecast through Playwright; each returns a promise and rejects with an
// error that says what failed. Everything the page does is logged to the console, which
// speaker.mjs forwards to the Go test.
'use strict';
(() => {
  const LK = window.LivekitClient;
  // Echo cancellation, noise suppression and gain control would treat the looped WAV as noise
  // and pull its level down within seconds (RESEARCH.md §2): a test speaker sends the file as is.
  // One channel, as a microphone has: livekit-client then publishes with RED and DTX by default
  // (Chromium's fake device otherwise opens in stereo, and stereo tracks get neither).
  const capture = { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 };
  let cfg = null; // set by join: {url, token, red, dtx, timeoutMs}
  let room = null;
  let pub = null; // the current LocalTrackPublication
  let analyser = null;

  const log = (...a) => console.log('[speaker]', ...a);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // withTimeout rejects with what was being waited for when p takes longer than cfg.timeoutMs.
  function withTimeout(p, what) {
    let timer;
    const t = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${cfg.timeoutMs} ms`)), cfg.timeoutMs);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
  }

  // senderStats reads the publication's RTP sender: packets sent and the negotiated codec.
  async function senderStats() {
    const out = { identity: room.localParticipant.identity, trackSid: pub.trackSid, packetsSent: 0, mimeType: '', audioLevel: 0 };
    const sender = pub.track && pub.track.sender;
    if (!sender) return out;
    // The codec in use is the first the sender negotiated: with RED that is audio/red, while
    // the outbound-rtp stats name the Opus inside it.
    const codecs = sender.getParameters().codecs || [];
    if (codecs.length > 0) out.mimeType = codecs[0].mimeType.toLowerCase();
    const report = await sender.getStats();
    report.forEach((s) => {
      if (s.type === 'outbound-rtp') out.packetsSent = s.packetsSent || 0;
      else if (s.type === 'media-source') out.audioLevel = s.audioLevel || 0;
    });
    return out;
  }

  // flowing waits until the sender has sent RTP: then the track is not only announced but on the wire.
  async function flowing() {
    const deadline = Date.now() + cfg.timeoutMs;
    for (;;) {
      const st = await senderStats();
      if (st.packetsSent > 0) return st;
      if (Date.now() > deadline) {
        const pc = room.engine && room.engine.pcManager && room.engine.pcManager.publisher;
        const ice = pc && pc.getICEConnectionState ? pc.getICEConnectionState() : 'unknown';
        throw new Error(`track ${pub.trackSid} was published but sent no RTP within ${cfg.timeoutMs} ms (publisher ICE state: ${ice})`);
      }
      await sleep(25);
    }
  }

  async function publish() {
    const track = await withTimeout(LK.createLocalAudioTrack(capture), 'open the fake microphone (getUserMedia)');
    const settings = track.mediaStreamTrack.getSettings();
    log(`microphone: ${track.mediaStreamTrack.label}, ${settings.sampleRate || '?'} Hz, ${settings.channelCount || '?'} ch, echoCancellation=${settings.echoCancellation}, autoGainControl=${settings.autoGainControl}, noiseSuppression=${settings.noiseSuppression}`);
    pub = await withTimeout(
      room.localParticipant.publishTrack(track, {
        name: 'microphone',
        source: LK.Track.Source.Microphone,
        red: cfg.red,
        dtx: cfg.dtx,
        stopMicTrackOnMute: false,
      }),
      'publish the microphone',
    );
    analyser = null;
    const st = await flowing();
    log(`published ${st.trackSid} as ${st.mimeType}, ${st.packetsSent} packets sent`);
    return st;
  }

  async function join(c) {
    cfg = c;
    if (room) throw new Error('join: already in the room (call leave first)');
    const r = new LK.Room({ adaptiveStream: false, dynacast: false, disconnectOnPageLeave: true });
    r.on(LK.RoomEvent.Disconnected, (reason) => log(`disconnected (reason ${reason})`));
    r.on(LK.RoomEvent.Reconnecting, () => log('reconnecting'));
    r.on(LK.RoomEvent.Reconnected, () => log('reconnected'));
    r.on(LK.RoomEvent.MediaDevicesError, (e) => log(`media device error: ${e && e.message}`));
    room = r;
    try {
      // No ICE servers: the test's network has only the LiveKit server on it, never a STUN or
      // TURN server the LiveKit server might name.
      await r.connect(cfg.url, cfg.token, {
        autoSubscribe: false,
        maxRetries: 0,
        peerConnectionTimeout: cfg.timeoutMs,
        websocketTimeout: cfg.timeoutMs,
        rtcConfig: { iceServers: [] },
      });
      log(`connected to room ${r.name} as ${r.localParticipant.identity}`);
      return await publish();
    } catch (e) {
      room = null;
      pub = null;
      await r.disconnect().catch(() => {});
      throw e;
    }
  }

  async function leave() {
    if (!room) throw new Error('leave: not in a room');
    const r = room;
    room = null;
    pub = null;
    analyser = null;
    await withTimeout(r.disconnect(true), 'leave the room');
    log('left the room');
    return {};
  }

  // close leaves the room, if in one, before the browser closes: the server then drops the
  // participant at once instead of holding it for a reconnect.
  async function close() {
    if (room) await leave();
    return {};
  }

  async function republish() {
    if (!room || !pub) throw new Error('republish: nothing published (join first)');
    const old = pub;
    await withTimeout(room.localParticipant.unpublishTrack(old.track, true), `unpublish ${old.trackSid}`);
    log(`unpublished ${old.trackSid}`);
    return await publish();
  }

  async function mute(muted) {
    if (!pub) throw new Error('mute: nothing published (join first)');
    await withTimeout(muted ? pub.mute() : pub.unmute(), muted ? 'mute' : 'unmute');
    log(muted ? 'muted' : 'unmuted');
    return senderStats();
  }

  async function stats() {
    if (!pub) throw new Error('stats: nothing published (join first)');
    return senderStats();
  }

  // probe listens to the microphone track for ms milliseconds and returns its RMS level (dBFS,
  // a full-scale sine reads -3.01) and the frequency of its strongest FFT bin, so a test can
  // check that the page hears the WAV it was given, at the level it was given. It reads three
  // analyser windows one after another and reports the median of each figure: on a busy machine
  // one window can hold a rendering glitch (a gap or a repeated block), which moves the peak by
  // a bin, and one glitch must not decide the reading.
  async function probe(ms) {
    if (!pub) throw new Error('probe: nothing published (join first)');
    if (!analyser) {
      const ctx = new AudioContext();
      await ctx.resume();
      const src = ctx.createMediaStreamSource(new MediaStream([pub.track.mediaStreamTrack]));
      analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      src.connect(analyser);
      analyser.ctx = ctx;
    }
    const win = 1000 * analyser.fftSize / analyser.ctx.sampleRate + 50;
    await sleep(Math.max(ms || 0, win));
    const levels = [], peaks = [];
    for (let n = 0; n < 3; n++) {
      if (n > 0) await sleep(win);
      const r = reading();
      levels.push(r.rmsDBFS);
      peaks.push(r.peakHz);
    }
    const median = (xs) => xs.slice().sort((a, b) => a - b)[1];
    return { rmsDBFS: median(levels), peakHz: median(peaks), sampleRate: analyser.ctx.sampleRate };
  }

  // reading is one analyser window's level and strongest frequency.
  function reading() {
    const td = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(td);
    let sum = 0;
    for (const v of td) sum += v * v;
    const rms = Math.sqrt(sum / td.length);
    const fd = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(fd);
    let best = 1;
    for (let i = 1; i < fd.length; i++) if (fd[i] > fd[best]) best = i;
    // Parabolic interpolation between the neighbouring bins (dB spectrum).
    let off = 0;
    if (best > 0 && best < fd.length - 1) {
      const a = fd[best - 1], b = fd[best], c = fd[best + 1];
      const d = a - 2 * b + c;
      if (d !== 0) off = 0.5 * (a - c) / d;
    }
    return {
      rmsDBFS: rms > 0 ? 20 * Math.log10(rms) : -1000,
      peakHz: (best + off) * analyser.ctx.sampleRate / analyser.fftSize,
    };
  }

  window.spacecast = { join, leave, close, republish, mute, stats, probe, ready: !!LK };
  log(LK ? `livekit-client ${LK.version} loaded` : 'livekit-client did not load (run npm ci --prefix testdata/browser)');
})();
