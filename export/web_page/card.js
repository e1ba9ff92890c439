// The model's card (model.json) as the page shows it: what the model is, its
// headline figures beside their references, and who to credit.

const LABELS = {
  fd: "Fréchet distance (lower is better)",
  score: "classifier score (higher is better)",
  kid: "kernel inception distance (lower is better)",
  precision: "precision", recall: "recall",
  min_class_fraction: "smallest class share",
  conditional_accuracy: "class accuracy of conditional samples",
  test_l1: "test L1 to the truth (lower is better)",
  test_fd: "test Fréchet distance (lower is better)",
  test_kid: "test KID (lower is better)",
  test_feature_distance: "test feature distance (lower is better)",
  test_style_share: "test style share", test_content_share: "test content share",
  high_quality: "samples near a mode", reverse_kl: "reverse KL over modes (lower is better)",
};

const fmt = (v) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))));

function cell(row, text, number = false, tag = "td") {
  const td = document.createElement(tag);
  td.textContent = text;
  if (number) td.className = "number";
  row.append(td);
}

// Top-level numeric metrics, each beside its reference: generators' cards hold
// reference numbers (two halves of the real data), translators' hold one
// dict per reference (identity, truth).
function figures(table, metrics) {
  const ref = metrics.reference || {};
  const columns = Object.values(ref).some((v) => v && typeof v === "object")
    ? Object.keys(ref).filter((k) => ref[k] && typeof ref[k] === "object")
    : (Object.keys(ref).length ? ["reference"] : []);
  // A translator's test_* figures sit under their plain names in each reference.
  const lookup = (col, key) => (col === "reference" ? ref[key]
    : ref[col]?.[key] ?? ref[col]?.[key.replace(/^test_/, "")]);
  const head = table.createTHead().insertRow();
  const names = columns.map((c) => (c === "reference" ? "real data (reference)" : c));
  ["figure", "this model", ...names].forEach((t) => cell(head, t, false, "th"));
  const body = table.createTBody();
  for (const [key, value] of Object.entries(metrics)) {
    if (typeof value !== "number") continue;
    const row = body.insertRow();
    cell(row, LABELS[key] || key);
    cell(row, fmt(value), true);
    for (const col of columns) {
      const r = lookup(col, key);
      cell(row, typeof r === "number" ? fmt(r) : "", true);
    }
  }
}

export function describe(card, info) {
  if (info.kind === "translator") {
    return `${card.translator || "translator"}: ${info.source_domain} → ${info.target_domain}, ` +
      `${info.image_shape.join("×")} → ${info.output_shape.join("×")}`;
  }
  const what = info.kind === "points" ? "2D points" : `${info.output_shape.join("×")} images`;
  const cond = info.conditional ? `, conditional on ${info.num_classes} classes` : "";
  return `${card.gan || "GAN"} generator of ${what}${cond}, latent size ${info.latent_dim}`;
}

export function showCard(card, manifest) {
  const info = manifest.model;
  document.getElementById("about").textContent =
    `${card.name}: ${describe(card, info)}. Trained on ${card.dataset || "?"}` +
    (card.steps ? ` for ${card.steps} steps` : "") + ".";
  const metrics = card.metrics || {};
  figures(document.getElementById("figures"), metrics);
  document.getElementById("protocol").textContent = metrics.protocol
    ? `Protocol: ${metrics.protocol}` : "";
  document.getElementById("attribution").textContent = card.attribution
    ? `Attribution: ${card.attribution}`
    : `The card names no attribution for its training data (${card.dataset || "unknown"}).`;
  const ort = manifest.ort_web;
  const licences = document.getElementById("licences");
  licences.innerHTML = "";
  licences.append(
    `Model: ${manifest.onnx} (${manifest.precision}); the whole card: `,
    link("model.json"), `. Runs in this browser on ONNX Runtime Web ${ort.version} ` +
    "(Microsoft, MIT licence: ", link(ort.license), "); page by keras-gan (Apache-2.0).");
}

function link(href) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = href;
  return a;
}
