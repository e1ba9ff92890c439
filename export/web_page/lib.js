// The page's numbers, without a DOM: latents, interpolation, pixels.
// Kept apart from page.js so that the test hook (window.kerasGan) exposes the
// very functions the page draws with.

// mulberry32 (Tommy Ettinger, public domain): a 32-bit state PRNG, uniform
// in [0, 1). The page's seeds are its own: numpy's default_rng(seed) stream
// (export/latents.sample_latents) is not reproduced here, so a seed gives a
// different picture on this page than in Python. Pass the same z to match.
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// One N(0, 1) draw by Box-Muller from two uniforms (the cosine half only:
// simpler to state, and speed is no concern at a few thousand draws).
// 1 - u keeps the logarithm away from 0.
export function normal(rand) {
  const u = 1 - rand(), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

// z ~ N(0, I) of shape (n, d), row-major, from seed. With truncation t,
// entries with |z| > t are redrawn (from the same stream, in index order)
// until none is: export/latents.sample_latents' truncation trick.
export function sampleLatents(n, d, seed, truncation = null) {
  const rand = mulberry32(seed);
  const z = new Float32Array(n * d);
  for (let i = 0; i < z.length; i++) z[i] = normal(rand);
  if (truncation !== null) {
    if (!(truncation >= 0.1)) throw new Error(`truncation must be >= 0.1, got ${truncation}`);
    for (let again = true; again;) {
      again = false;
      for (let i = 0; i < z.length; i++) {
        if (Math.abs(z[i]) > truncation) { z[i] = normal(rand); again = true; }
      }
    }
  }
  return z;
}

// Spherical interpolation between latents a and b (length d) at times t:
// a Float32Array (t.length * d). export/latents.slerp line for line, in
// float64 until the end; (anti)parallel or zero latents fall back to lerp.
export function slerp(a, b, t) {
  const d = a.length;
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < d; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  const norms = Math.sqrt(na) * Math.sqrt(nb);
  const omega = norms ? Math.acos(Math.min(1, Math.max(-1, dot / norms))) : 0;
  const out = new Float32Array(t.length * d);
  const linear = Math.sin(omega) < 1e-6;
  t.forEach((s, k) => {
    const wa = linear ? 1 - s : Math.sin((1 - s) * omega) / Math.sin(omega);
    const wb = linear ? s : Math.sin(s * omega) / Math.sin(omega);
    for (let i = 0; i < d; i++) out[k * d + i] = wa * a[i] + wb * b[i];
  });
  return out;
}

// numpy.linspace(0, 1, steps).
export function linspace(steps) {
  return Array.from({ length: steps }, (_, i) => (steps === 1 ? 0 : i / (steps - 1)));
}

// [-1, 1] -> 0..255 exactly as export/latents.to_uint8 does on float32
// images: rint((x + 1) * 127.5), clipped. Math.fround after each step
// reproduces float32 arithmetic; rint rounds halves to even.
export function toUint8(x) {
  const v = Math.fround(Math.fround(x + 1) * 127.5);
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1;  // Math.round takes halves up
  return Math.min(255, Math.max(0, r));
}

// Image k of a batch (N, h, w, c) in [-1, 1] onto a canvas of h x w pixels;
// grey is repeated to RGB.
export function drawImage(canvas, data, k, h, w, c) {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  const base = k * h * w * c;
  for (let p = 0; p < h * w; p++) {
    for (let ch = 0; ch < 3; ch++) {
      img.data[4 * p + ch] = toUint8(data[base + p * c + (c === 1 ? 0 : ch)]);
    }
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// 2D points (N, 2) as a scatter plot on a square canvas, scaled to their extent.
export function drawPoints(canvas, data, n) {
  const side = canvas.width;
  const ctx = canvas.getContext("2d");
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < 2 * n; i++) { lo = Math.min(lo, data[i]); hi = Math.max(hi, data[i]); }
  const span = hi - lo || 1, pad = 0.05 * side;
  const at = (v) => pad + ((v - lo) / span) * (side - 2 * pad);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, side, side);
  ctx.fillStyle = "rgba(40, 80, 160, 0.5)";
  for (let i = 0; i < n; i++) ctx.fillRect(at(data[2 * i]) - 1.5, side - at(data[2 * i + 1]) - 1.5, 3, 3);
}

// A canvas's pixels as model input (1, h, w, c) in [-1, 1]: scaled to h x w
// by the browser (smoothed), colour to grey by luma (0.299, 0.587, 0.114),
// as export/projection.to_model_input converts (its resize is PIL's, so
// pixels may differ slightly).
export function canvasInput(source, h, w, c) {
  const small = document.createElement("canvas");
  small.width = w;
  small.height = h;
  const ctx = small.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.fillStyle = "#fff";  // transparent pixels read as white, as the runtime composites
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(source, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const x = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    const [r, g, b] = [rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]].map((v) => v / 255);
    if (c === 1) x[p] = 2 * (0.299 * r + 0.587 * g + 0.114 * b) - 1;
    else [r, g, b].forEach((v, ch) => { x[p * c + ch] = 2 * v - 1; });
  }
  return x;
}
