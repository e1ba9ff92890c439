// The page: loads manifest.json (written by `keras-gan web`), the card and the
// ONNX file, then samples a grid (generators), plots points (2D models) or
// translates a drawing (translators), all in this browser with ONNX Runtime
// Web's wasm backend. window.kerasGan is the test hook (tests/test_web_browser.py).
import * as ort from "./ort/ort.wasm.min.mjs";
import { showCard, describe } from "./card.js";
import {
  canvasInput, drawImage, drawPoints, linspace, sampleLatents, slerp, toUint8,
} from "./lib.js";

const $ = (id) => document.getElementById(id);
const POINTS = 512;  // one scatter plot of a 2D model
const MAX_SEED = 4294967295;
let ready, resolveReady, rejectReady;
ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
ready.catch(() => {});  // shown on the page; a test awaiting it still sees it fail

function status(text, bad = false) {
  $("status").textContent = text;
  $("status").className = bad ? "error" : "";
}

// Files are fetched from beside this module only, never from a CDN. One
// thread: more need cross-origin isolation (COOP/COEP headers), which static
// hosts rarely set, and these small models gain little from them; one thread
// is also what the tests and benchmarks/web_page.py measure.
ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href;
ort.env.wasm.numThreads = 1;

let session, info;
let queue = Promise.resolve();  // one run at a time: a session runs requests in turn
function run(feeds) {
  const job = queue.then(() => session.run(feeds));
  queue = job.catch(() => {});
  return job;
}

async function generate(z, n, labels = null) {
  const feeds = { z: new ort.Tensor("float32", Float32Array.from(z), [n, info.latent_dim]) };
  if (info.conditional) {
    feeds.labels = new ort.Tensor("int64", BigInt64Array.from(labels, (v) => BigInt(v)), [n]);
  }
  return (await run(feeds)).images.data;
}

async function translate(x, n) {
  const feeds = { source: new ort.Tensor("float32", Float32Array.from(x), [n, ...info.image_shape]) };
  return (await run(feeds)).images.data;
}

function firstImage() {  // benchmarks/web_page.py reads this mark
  if (!performance.getEntriesByName("kg-first-image").length) performance.mark("kg-first-image");
}

function readSeed(id) {
  const text = $(id).value.trim();
  const seed = Number(text);
  if (!/^\d+$/.test(text) || seed > MAX_SEED) {
    throw new Error(`seed must be an integer between 0 and ${MAX_SEED}, got "${text}"`);
  }
  return seed;
}

function canvases(parent, count, cls = "") {
  const list = Array.from({ length: count }, () => {
    const c = document.createElement("canvas");
    if (cls) c.className = cls;
    return c;
  });
  parent.replaceChildren(...list);
  return list;
}

function truncation() {
  return $("truncate").checked ? Number($("truncation").value) : null;
}

function classOptions(select, withCycle) {
  const names = info.class_names || Array.from({ length: info.num_classes }, (_, i) => String(i));
  select.replaceChildren(...(withCycle ? [new Option("each class in turn", "")] : []),
    ...names.map((name, i) => new Option(name, String(i))));
}

async function sampleGrid() {
  const seed = readSeed("seed");
  const n = info.kind === "points" ? POINTS : Number($("count").value);
  const z = sampleLatents(n, info.latent_dim, seed, truncation());
  const cls = $("class").value;
  const labels = info.conditional
    ? Array.from({ length: n }, (_, i) => (cls === "" ? i % info.num_classes : Number(cls))) : null;
  const out = await generate(z, n, labels);
  if (info.kind === "points") {
    const [plot] = canvases($("grid"), 1, "points");
    plot.width = plot.height = 320;
    drawPoints(plot, out, n);
  } else {
    const [h, w, c] = info.output_shape;
    canvases($("grid"), n).forEach((cv, k) => drawImage(cv, out, k, h, w, c));
  }
  firstImage();
  status(`seed ${seed}${truncation() === null ? "" : `, truncation ${truncation()}`}`);
}

let animation = null;
async function interpolate() {
  const steps = Number($("steps").value);
  if (!Number.isInteger(steps) || steps < 2 || steps > 64) {
    throw new Error(`steps must be an integer between 2 and 64, got "${$("steps").value}"`);
  }
  const d = info.latent_dim, t = truncation();
  const a = sampleLatents(1, d, readSeed("seed-a"), t), b = sampleLatents(1, d, readSeed("seed-b"), t);
  const times = linspace(steps);
  const labels = info.conditional ? times.map((s) => Number(s < 0.5 ? $("class-a").value
    : $("class-b").value)) : null;
  const out = await generate(slerp(a, b, times), steps, labels);
  const [h, w, c] = info.output_shape;
  canvases($("strip"), steps).forEach((cv, k) => drawImage(cv, out, k, h, w, c));
  clearInterval(animation);  // a ping-pong walk along the strip
  let frame = 0;
  animation = setInterval(() => {
    const k = (steps - 1) - Math.abs((frame++ % (2 * steps - 2)) - (steps - 1));
    drawImage($("animation"), out, k, h, w, c);
  }, 120);
}

function setupGenerator() {
  $("sampler").hidden = false;
  if (info.conditional) {
    $("class-label").hidden = $("class-a-label").hidden = $("class-b-label").hidden = false;
    classOptions($("class"), true);
    classOptions($("class-a"), false);
    classOptions($("class-b"), false);
    $("class-b").selectedIndex = Math.min(1, info.num_classes - 1);
  }
  if (info.kind === "points") $("count-label").hidden = true;
  else $("interpolation").hidden = false;
  $("truncation").oninput = () => {
    $("truncation-value").textContent = Number($("truncation").value).toFixed(2);
  };
  $("generate").onclick = () => sampleGrid().catch(shown);
  $("interpolate").onclick = () => interpolate().catch(shown);
}

// A smiley to start from, so the page shows a translation at once.
function starterSketch(ctx, colour) {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, 256, 256);
  ctx.lineWidth = 10;
  ctx.strokeStyle = "#000";
  ctx.beginPath();
  ctx.arc(128, 128, 100, 0, 2 * Math.PI);
  if (colour) { ctx.fillStyle = "#fc0"; ctx.fill(); }
  ctx.stroke();
  ctx.fillStyle = "#000";
  for (const x of [90, 166]) { ctx.beginPath(); ctx.arc(x, 100, 12, 0, 2 * Math.PI); ctx.fill(); }
  ctx.beginPath();
  ctx.arc(128, 140, 55, 0.15 * Math.PI, 0.85 * Math.PI);
  ctx.stroke();
}

async function translatePad() {
  const [h, w, c] = info.image_shape, [oh, ow, oc] = info.output_shape;
  const x = canvasInput($("pad"), h, w, c);
  const out = await translate(x, 1);
  drawImage($("source-view"), x, 0, h, w, c);
  drawImage($("result"), out, 0, oh, ow, oc);
  firstImage();
}

function setupTranslator() {
  $("translator").hidden = false;
  $("pad-caption").textContent = `your drawing (${info.source_domain})`;
  $("result-caption").textContent = `the translation (${info.target_domain})`;
  const pad = $("pad"), ctx = pad.getContext("2d");
  starterSketch(ctx, info.image_shape[2] === 3);
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * (pad.width / r.width), (e.clientY - r.top) * (pad.height / r.height)];
  };
  let last = null;
  pad.onpointerdown = (e) => { last = at(e); pad.setPointerCapture(e.pointerId); };
  pad.onpointermove = (e) => {
    if (!last) return;
    const next = at(e);
    Object.assign(ctx, { strokeStyle: $("brush-colour").value, lineWidth: Number($("brush-size").value),
      lineCap: "round" });
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...next);
    ctx.stroke();
    last = next;
  };
  pad.onpointerup = pad.onpointercancel = () => { last = null; translatePad().catch(shown); };
  $("clear").onclick = () => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, pad.width, pad.height);
    translatePad().catch(shown);
  };
  $("upload").onchange = async () => {
    const file = $("upload").files[0];
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      ctx.fillStyle = "#fff";  // transparent pictures composited on white
      ctx.fillRect(0, 0, pad.width, pad.height);
      ctx.drawImage(bitmap, 0, 0, pad.width, pad.height);
      await translatePad();
    } catch (e) {
      shown(new Error(`could not read ${file.name} as a picture: ${e.message}`));
    }
  };
}

function shown(error) {
  status(error.message || String(error), true);
}

async function main() {
  const manifest = await (await fetch("manifest.json")).json();
  info = manifest.model;
  const card = await (await fetch("model.json")).json();
  $("subtitle").textContent = describe(card, info);
  showCard(card, manifest);
  session = await ort.InferenceSession.create(manifest.onnx, { executionProviders: ["wasm"] });
  performance.mark("kg-session");
  status(`${manifest.onnx} loaded (ONNX Runtime Web ${manifest.ort_web.version}, wasm).`);
  resolveReady(manifest);
  if (info.kind === "translator") {
    setupTranslator();
    await translatePad();
  } else {
    setupGenerator();
    await sampleGrid();
    if (info.kind !== "points") await interpolate();  // the strip and its animation, at once
  }
}

window.kerasGan = { ready, generate, translate, sampleLatents, slerp, linspace, toUint8 };
main().catch((e) => { shown(e); rejectReady(e); });
