// The browser test call: microphone (or a WAV file) → 8 kHz 16-bit audio over a WebSocket to
// the hub's IVR; the IVR's audio comes back the same way and is played; keys go as DTMF.
"use strict";
(() => {
  const RATE = 8000;
  const $ = (id) => document.getElementById(id);
  let ws = null, ctx = null, source = null, processor = null, fileTimer = null, playAt = 0;

  const params = new URLSearchParams(location.search);
  if (params.get("demo") === "1") $("caller-row").hidden = false;

  function status(text) { $("status").textContent = text; }
  function caption(text, mine) {
    const li = document.createElement("li");
    li.textContent = (mine ? "我：" : "热线：") + text;
    if (mine) li.className = "me";
    $("captions").append(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const caller = $("caller").value.trim();
    const query = caller ? `?caller=${encodeURIComponent(caller)}` : "";
    ws = new WebSocket(`${proto}//${location.host}/api/v1/webcall/socket${query}`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { status("已接通热线"); $("hangup").disabled = false; };
    ws.onmessage = (ev) => (typeof ev.data === "string" ? onText(JSON.parse(ev.data)) : play(ev.data));
    ws.onclose = () => { status("通话已结束"); stop(); };
    ws.onerror = () => status("连接失败，请稍后再试");
  }

  function onText(msg) {
    if (msg.type === "caption") caption(msg.text, false);
    else if (msg.type === "agent") status("人工坐席已接听");
    else if (msg.type === "hold") status(msg.on ? "坐席请您稍候（保持中）" : "人工坐席已接听");
    else if (msg.type === "error") status(msg.text);
    else if (msg.type === "ended") status("通话已结束");
  }

  function play(buffer) {
    const pcm = new Int16Array(buffer);
    const audio = ctx.createBuffer(1, pcm.length, RATE);
    const out = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 32768;
    const node = ctx.createBufferSource();
    node.buffer = audio;
    node.connect(ctx.destination);
    playAt = Math.max(playAt, ctx.currentTime + 0.05);
    node.start(playAt);
    playAt += audio.duration;
  }

  function send(floats) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const pcm = new Int16Array(floats.length);
    for (let i = 0; i < floats.length; i++) pcm[i] = Math.max(-1, Math.min(1, floats[i])) * 32767;
    ws.send(pcm.buffer);
  }

  async function dialMic() {
    ctx = new AudioContext({ sampleRate: RATE });
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      status("无法使用麦克风：请允许浏览器访问麦克风，或改用录音文件拨打");
      return;
    }
    source = ctx.createMediaStreamSource(stream);
    processor = ctx.createScriptProcessor(1024, 1, 1);
    processor.onaudioprocess = (ev) => send(ev.inputBuffer.getChannelData(0));
    source.connect(processor);
    processor.connect(ctx.destination);
    status("正在拨打…");
    connect();
  }

  async function dialFile(file) {
    ctx = new AudioContext({ sampleRate: RATE });
    let samples;
    try {
      samples = (await ctx.decodeAudioData(await file.arrayBuffer())).getChannelData(0);
    } catch (e) {
      status("无法读取这个音频文件，请换一个 WAV 文件");
      return;
    }
    status("正在拨打…");
    connect();
    // 20 ms of the file per tick, then silence, as a caller who said it and waits
    let at = 0;
    const frame = RATE / 50;
    fileTimer = setInterval(() => {
      const chunk = at < samples.length ? samples.subarray(at, at + frame) : new Float32Array(frame);
      at += frame;
      send(chunk);
    }, 20);
  }

  function stop() {
    if (fileTimer) clearInterval(fileTimer);
    fileTimer = null;
    if (processor) processor.disconnect();
    if (source) source.disconnect();
    processor = source = null;
    $("hangup").disabled = true;
  }

  $("dial-mic").addEventListener("click", dialMic);
  $("dial-file").addEventListener("change", (ev) => { if (ev.target.files[0]) dialFile(ev.target.files[0]); });
  $("hangup").addEventListener("click", () => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "hangup" }));
    stop();
  });
  for (const key of document.querySelectorAll("[data-digit]")) {
    key.addEventListener("click", () => {
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: "dtmf", digit: key.dataset.digit }));
      caption(`按键 ${key.dataset.digit}`, true);
    });
  }
})();
