#!/usr/bin/env node
// Times ONNX Runtime (in this process, via onnxruntime-node) and the model
// from each of ghostcc's backends (child processes, bench/runner.c linked
// with the C backend's files or the LLVM backend's object) on the same
// network, weights and input, alternating between the three in rounds.
//
// usage: node bench/bench.js [--runs N] [--warmup N] [--round N]
//          [--peak GFLOPS] [--probe TEXT] [--json FILE] DIR...
// Each DIR (prepared by bench/run.sh) holds bench.json ({name, macs,
// resolution, cc, cflags, cpu}), model.onnx, input.bin, expected.bin and
// the binaries runner and runner-llvm. Prints one table row per network;
// exits 1 if any network's outputs disagree or a runtime fails.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');
const { performance } = require('perf_hooks');

const RTOL = 1e-4; // same as tests/golden/harness.c

// ghostcc's contestants: key (JSON field and output file), table label and
// the runner binary bench/run.sh builds in each network's directory.
const BACKENDS = [
  { key: 'c', label: 'C', exe: 'runner' },
  { key: 'llvm', label: 'LLVM', exe: 'runner-llvm' },
];

// The speed each network must reach: ORT median / C median at least this
// (GhostNet 2x, ShuffleNetV1 1.5x, the rest no slower than ORT).
const TARGETS = { ghostnet: 2.0, shufflenet_v1: 1.5 };
const targetOf = (name) => TARGETS[name] ?? 1.0;

function usage(msg) {
  if (msg) console.error(`bench.js: ${msg}`);
  console.error('usage: node bench/bench.js [--runs N] [--warmup N] ' +
                '[--round N] [--peak GFLOPS] [--probe TEXT] [--json FILE] DIR...');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { runs: 60, warmup: 10, round: 10, peak: 0, probe: '', json: '', dirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runs') o.runs = parseInt(val(), 10);
    else if (a === '--warmup') o.warmup = parseInt(val(), 10);
    else if (a === '--round') o.round = parseInt(val(), 10);
    else if (a === '--peak') o.peak = parseFloat(val());
    else if (a === '--probe') o.probe = val();
    else if (a === '--json') o.json = val();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else o.dirs.push(a);
  }
  if (!(o.runs >= 1) || !(o.warmup >= 0) || !(o.round >= 1)) usage('bad --runs/--warmup/--round');
  if (o.dirs.length === 0) usage('no network directory');
  return o;
}

function readFloats(file) {
  const b = fs.readFileSync(file);
  if (b.length % 4 !== 0) throw new Error(`${file}: not a float32 file`);
  // Copy into an aligned buffer of its own.
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(4 * i);
  return out;
}

function argmax(v) {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

// max|a - b|, max|ref| and whether a agrees with ref (harness criterion).
function compare(a, ref) {
  if (a.length !== ref.length) return { ok: false, why: `length ${a.length} vs ${ref.length}` };
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - ref[i]);
    if (Number.isNaN(d)) { maxDiff = NaN; } else if (d > maxDiff) maxDiff = d;
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  const sameArgmax = argmax(a) === argmax(ref);
  const ok = maxDiff <= RTOL * maxRef && sameArgmax;
  return { ok, maxDiff, maxRef, rel: maxDiff / Math.max(maxRef, 1e-30), sameArgmax };
}

function stats(times) {
  const s = [...times].sort((x, y) => x - y);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { n, min: s[0], median, max: s[n - 1] };
}

// The ghostcc model as a child process speaking bench/runner.c's protocol.
class Runner {
  constructor(label, exe, input, output) {
    this.label = label;
    this.exe = exe;
    this.child = spawn(exe, [input, output], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
    this.exited = new Promise((resolve) => this.child.on('exit', (code, sig) => resolve(sig || code)));
    this.spawnError = null;
    this.child.on('error', (e) => { this.spawnError = e; });
  }
  fail(msg) { return new Error(`${this.label} runner (${this.exe}): ${msg}`); }
  async line() {
    const r = await this.lines.next();
    if (r.done) {
      throw this.fail(this.spawnError ? `cannot start (${this.spawnError.code || this.spawnError.message})`
                                      : `exited (${await this.exited}) without answering`);
    }
    if (r.value.startsWith('error')) throw this.fail(r.value);
    return r.value;
  }
  async ready() {
    const l = await this.line();
    if (!l.startsWith('ready')) throw this.fail(`unexpected "${l}"`);
  }
  async run(n) {
    this.child.stdin.write(`run ${n}\n`);
    const t = (await this.line()).trim().split(' ').map(Number);
    if (t.length !== n || t.some((x) => !(x >= 0))) throw this.fail('bad timing line');
    return t;
  }
  async quit() {
    this.child.stdin.end('quit\n');
    await this.exited;
  }
  kill() { this.child.kill('SIGKILL'); }
}

async function ortRuns(session, feeds, n) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    t.push(performance.now() - t0);
  }
  return t;
}

async function benchOne(ort, dir, opt) {
  const info = JSON.parse(fs.readFileSync(path.join(dir, 'bench.json'), 'utf8'));
  const row = { name: info.name, macs: info.macs, ok: false, agree: {}, vsTorch: {} };
  const input = readFloats(path.join(dir, 'input.bin'));
  const expected = readFloats(path.join(dir, 'expected.bin'));
  const R = info.resolution;
  if (input.length !== 3 * R * R) throw new Error(`${info.name}: input.bin is not 1x3x${R}x${R}`);

  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, R, R]) };
  const ortOut = Float32Array.from((await session.run(feeds))[session.outputNames[0]].data);
  row.vsTorch.ort = compare(ortOut, expected);

  const runners = [];
  try {
    for (const b of BACKENDS) {
      const outFile = path.join(dir, `ghostcc_${b.key}_out.bin`);
      const runner = new Runner(b.label, path.join(dir, b.exe), path.join(dir, 'input.bin'), outFile);
      runners.push(runner);
      await runner.ready();
      const out = readFloats(outFile);
      // ORT is the reference each backend must agree with.
      row.agree[b.key] = compare(out, ortOut);
      row.vsTorch[b.key] = compare(out, expected);
    }
    row.ok = BACKENDS.every((b) => row.agree[b.key].ok);

    // Warm-up, then rounds of every contestant in turn; which one goes
    // first rotates, so none always runs right after the same other one.
    const contestants = [
      { key: 'ort', times: [], run: (k) => ortRuns(session, feeds, k) },
      ...BACKENDS.map((b, i) => ({ key: b.key, times: [], run: (k) => runners[i].run(k) })),
    ];
    if (opt.warmup > 0) for (const c of contestants) await c.run(opt.warmup);
    for (let r = 0, done = 0; done < opt.runs; r++, done += opt.round) {
      const k = Math.min(opt.round, opt.runs - done);
      for (let j = 0; j < contestants.length; j++) {
        const c = contestants[(r + j) % contestants.length];
        c.times.push(...await c.run(k));
      }
    }
    for (const c of contestants) row[c.key] = stats(c.times);
    for (const runner of runners) await runner.quit();
  } catch (e) {
    for (const runner of runners) runner.kill();
    throw e;
  } finally {
    await session.release();
  }
  return row;
}

function fmt(x, d) { return x === undefined || !isFinite(x) ? '-' : x.toFixed(d); }

function perfCell(macs, ms, peak) {
  if (!ms) return '-';
  const gflops = 2 * macs / (ms * 1e-3) / 1e9;
  return peak > 0 ? `${fmt(gflops, 1)} (${fmt(100 * gflops / peak, 1)}%)` : fmt(gflops, 1);
}

function printTable(rows, peak) {
  const head = ['network', 'MMACs', 'ORT min / med ms',
                ...BACKENDS.map((b) => `${b.label} min / med ms`),
                ...BACKENDS.map((b) => `ORT/${b.label} med (min)`),
                'ORT GFLOP/s (% peak)',
                ...BACKENDS.map((b) => `${b.label} GFLOP/s (% peak)`),
                'ORT/C target', 'outputs'];
  const body = rows.map((r) => {
    if (r.error) return [r.name, ...head.slice(1, -1).map(() => '-'), 'ERROR'];
    return [
      r.name,
      fmt(r.macs / 1e6, 1),
      ...['ort', ...BACKENDS.map((b) => b.key)].map((k) => `${fmt(r[k].min, 2)} / ${fmt(r[k].median, 2)}`),
      ...BACKENDS.map((b) => `${fmt(r.ort.median / r[b.key].median, 2)}x ` +
                             `(${fmt(r.ort.min / r[b.key].min, 2)}x)`),
      ...['ort', ...BACKENDS.map((b) => b.key)].map((k) => perfCell(r.macs, r[k].median, peak)),
      `${fmt(targetOf(r.name), 1)}x ` +
        (r.ort.median / r.c.median >= targetOf(r.name) ? 'met' : 'MISSED'),
      r.ok ? 'agree' : 'FAIL',
    ];
  });
  const all = [head, ...body];
  const w = head.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const line = (row) => '| ' + row.map((s, c) => (c === 0 ? s.padEnd(w[c]) : s.padStart(w[c]))).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + w.map((n, c) => (c === 0 ? ':' + '-'.repeat(n + 1) : '-'.repeat(n + 1) + ':')).join('|') + '|');
  for (const row of body) console.log(line(row));
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const ort = require('onnxruntime-node');
  const rows = [];
  for (const dir of opt.dirs) {
    let name = path.basename(dir);
    try {
      name = JSON.parse(fs.readFileSync(path.join(dir, 'bench.json'), 'utf8')).name;
      process.stderr.write(`bench: ${name}: ${opt.warmup} warm-up + ${opt.runs} timed runs each, ` +
                           `alternating in rounds of ${opt.round}...\n`);
      rows.push(await benchOne(ort, dir, opt));
    } catch (e) {
      console.error(`bench: ${name}: ${e.message}`);
      rows.push({ name, error: e.message, ok: false });
    }
  }

  const info = opt.dirs.length ? JSON.parse(fs.readFileSync(path.join(opt.dirs[0], 'bench.json'), 'utf8')) : {};
  const names = ['ORT', ...BACKENDS.map((b) => b.label)];
  console.log('');
  console.log(`ONNX Runtime ${ort.env.versions.node} (onnxruntime-node, CPU EP, intra/inter-op threads 1, ` +
              'graph optimization all, sequential) vs ghostcc\'s two backends, kernels for ' +
              `--cpu ${info.cpu}:`);
  console.log(`  C:    the generated C built with ${info.cc} ${info.cflags}`);
  console.log(`  LLVM: the object from ghostcc --emit obj (LLVM -O3), linked with ${info.cc}`);
  console.log(`FMA peak, one core: ${opt.peak > 0 ? opt.peak.toFixed(1) + ' GFLOP/s' : 'not measured'}` +
              (opt.probe ? ` (${opt.probe})` : ''));
  console.log(`${opt.warmup} warm-up + ${opt.runs} timed runs each, batch 1, alternating ${names.join(', ')} ` +
              `in rounds of ${opt.round} (which goes first rotates)`);
  console.log(`${BACKENDS.map((b) => `ORT/${b.label}`).join(', ')} > 1: that backend is faster than ORT. ` +
              'GFLOP/s = 2 x MACs / median time. ORT/C target: the ratio of medians the C backend must ' +
              'reach, and whether it did in this run.');
  const load = os.loadavg()[0], cpus = os.cpus().length;
  if (load > 0.5 * cpus) {
    console.log(`note: load average ${load.toFixed(1)} on ${cpus} CPUs: other processes compete for the ` +
                'cores, so medians are noisy; the min columns are the steadier comparison');
  }
  console.log('');
  printTable(rows, opt.peak);
  console.log('');
  const d = (c) => `${c.maxDiff.toExponential(2)} (${c.rel.toExponential(1)})` +
                   (c.sameArgmax ? '' : ' argmax DIFFERENT');
  for (const r of rows) {
    if (r.error) { console.log(`${r.name}: ERROR: ${r.error}`); continue; }
    const vsOrt = BACKENDS.map((b) => `${b.label} ${d(r.agree[b.key])}${r.agree[b.key].ok ? '' : ' -> FAIL'}`);
    const vsTorch = ['ort', ...BACKENDS.map((b) => b.key)].map((k, i) => `${names[i]} ${d(r.vsTorch[k])}`);
    console.log(`${r.name}: max|diff| (relative to max|ref|), same argmax unless noted`);
    console.log(`  against ORT:       ${vsOrt.join(', ')}`);
    console.log(`  against torch f64: ${vsTorch.join(', ')}`);
  }
  if (opt.json) {
    fs.writeFileSync(opt.json, JSON.stringify({ peak_gflops: opt.peak, probe: opt.probe, runs: opt.runs,
                                                warmup: opt.warmup, round: opt.round,
                                                ort_version: ort.env.versions.node,
                                                cc: info.cc, cflags: info.cflags, cpu: info.cpu,
                                                backends: BACKENDS.map((b) => b.key), rows },
                                              null, 1) + '\n');
  }
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}

main().catch((e) => {
  console.error(`bench.js: ${e.stack || e}`);
  process.exit(1);
});
