// Renders DiceBear avatar SVGs for the synthetic portrait dataset.
//
// Usage: node render.mjs --seed S --start A --count N [--styles a,b,c] [--set part=variant,...]
// Writes one JSON object per line to stdout: {"id", "style", "svg"}.
// Sample `id` (A .. A+N-1) and the master seed fully determine each SVG.
// Every component's markup is wrapped in <g data-part="NAME" data-variant="V">, so the Python
// side can colour-code the innermost component for exact part labels.

import { createAvatar } from '@dicebear/core';

export const STYLE_NAMES = ['lorelei', 'notionists', 'adventurer', 'micah', 'personas', 'big-ears'];

// Relative sampling weight per style (notionists is line art without colour).
const STYLE_WEIGHTS = {
  lorelei: 3, notionists: 1, adventurer: 3, micah: 2, personas: 2, 'big-ears': 2,
};

const SKIN = [
  'ffdbc4', 'f8d5c2', 'f2d3b1', 'eeb4a4', 'e7a391', 'ecad80', 'e5a07e', 'd78774', 'da9969',
  'c68642', 'c07f50', 'b16a5b', 'a66637', '9e5622', '92594b', '8d5524', '89532c', '77311d',
  '763900', '623d36', 'fbe3d0', 'f9c9b6', 'ac6651',
];
const HAIR_NATURAL = [
  '0e0e0e', '1c1c1c', '2c1b18', '362c47', '4a312c', '562306', '6a4e35', '6c4545', '724133',
  '796a45', 'a55728', 'ab2a18', 'ac6511', 'b58143', 'b9a05f', 'c93305', 'cb6820', 'd6b370',
  'e5d7a3', 'ecdcbf', 'afafaf', 'e8e1e1',
];
const HAIR_FANCY = ['3eac2c', '85c2c6', 'dba3be', '592454', 'e15c66', '9287ff', '6bd9e9', 'f59797'];
const DARK = ['000000', '1a1a1a', '2b1d14', '3b2a20', '1d2b3a', '233a22', '4a2c1a'];
const LIPS = ['000000', '2b1d14', '8e3b3b', 'a0443f', 'b5524f', '6d2a2a', 'c56b6b'];

function mulberry32(a) {
  return function next() {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleRng(seed, id) {
  // Mix seed and id into one 32-bit state (splitmix-like), then run mulberry32.
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(id + 0x632be5ab, 0xc2b2ae35)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h ^= h >>> 13;
  return mulberry32(h);
}

const pick = (rng, list) => list[Math.floor(rng() * list.length)];

function randomHex(rng) {
  const h = rng() * 6;
  const s = 0.35 + 0.6 * rng();
  const v = 0.35 + 0.65 * rng();
  const c = v * s;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const rgb = [[c, x, 0], [x, c, 0], [0, c, x], [0, x, c], [x, 0, c], [c, 0, x]][Math.floor(h) % 6];
  return rgb.map((u) => Math.round((u + v - c) * 255).toString(16).padStart(2, '0')).join('');
}

function colourFor(key, rng, hair) {
  if (key === 'skinColor' || key === 'baseColor') return pick(rng, SKIN);
  if (key === 'hairColor' || key === 'facialHairColor') return hair;
  if (key === 'eyebrowsColor') return rng() < 0.6 ? pick(rng, DARK) : hair;
  if (key === 'eyesColor' || key === 'noseColor') return pick(rng, DARK);
  if (key === 'mouthColor') return pick(rng, LIPS);
  if (key === 'frecklesColor') return pick(rng, ['6b3e26', '8d5524', '4a2c1a']);
  return randomHex(rng);
}

// Probability (percent) overrides: more accessories than DiceBear's defaults.
const PROBABILITY = {
  glassesProbability: 20, earringsProbability: 25, beardProbability: 12, facialHairProbability: 12,
  frecklesProbability: 15, hairAccessoriesProbability: 12, featuresProbability: 15,
  gestureProbability: 0, bodyIconProbability: 50, cheekProbability: 50,
};

export function optionsFor(style, rng, seed, id) {
  const props = style.schema.properties;
  const hair = rng() < 0.88 ? pick(rng, HAIR_NATURAL) : pick(rng, HAIR_FANCY);
  const options = { seed: `${seed}-${id}`, flip: rng() < 0.5, backgroundColor: [] };
  for (const key of Object.keys(props).sort()) {
    if (key.endsWith('Color') && key !== 'backgroundColor') {
      options[key] = [colourFor(key, rng, hair)];
    } else if (key in PROBABILITY) {
      options[key] = PROBABILITY[key];
    }
  }
  if ('hairProbability' in props) options.hairProbability = 96;
  return options;
}

async function loadStyle(name) {
  const style = await import(`@dicebear/${name}`);
  // Deep import by relative file path: the package "exports" map only covers the index.
  const url = new URL(`./node_modules/@dicebear/${name}/lib/components/index.js`, import.meta.url);
  const components = await import(url.href);
  for (const [part, variants] of Object.entries(components)) {
    for (const [variant, render] of Object.entries(variants)) {
      variants[variant] = (c, colours) => `<g data-part="${part}" data-variant="${variant}">${render(c, colours)}</g>`;
    }
  }
  return style;
}

function parseArgs(argv) {
  const args = { seed: 0, start: 0, count: 1, styles: STYLE_NAMES.join(','), set: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args)) throw new Error(`unknown option ${argv[i]}`);
    args[key] = key === 'styles' || key === 'set' ? argv[i + 1] : Number.parseInt(argv[i + 1], 10);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const names = args.styles.split(',').filter((s) => s);
  for (const n of names) {
    if (!STYLE_NAMES.includes(n)) throw new Error(`unknown style ${n}; use ${STYLE_NAMES}`);
  }
  const styles = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await loadStyle(n)])));
  const total = names.reduce((acc, n) => acc + STYLE_WEIGHTS[n], 0);
  const lines = [];
  for (let id = args.start; id < args.start + args.count; id += 1) {
    const rng = sampleRng(args.seed, id);
    let r = rng() * total;
    let name = names[names.length - 1];
    for (const n of names) {
      r -= STYLE_WEIGHTS[n];
      if (r < 0) { name = n; break; }
    }
    const options = optionsFor(styles[name], rng, args.seed, id);
    // --set part=variant,...: force components (one PRNG draw each either way, so the rest stays)
    for (const pair of args.set.split(',').filter((s) => s)) {
      const [part, variant] = pair.split('=');
      options[part] = [variant];
    }
    const svg = createAvatar(styles[name], options).toString();
    lines.push(JSON.stringify({ id, style: name, svg }));
    if (lines.length >= 256) { process.stdout.write(`${lines.join('\n')}\n`); lines.length = 0; }
  }
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
