// Runs the in-process cases of a test file in MicroPython's webassembly build:
//
//   node tests/wasm/cases.mjs TEST_FILE
//
// Loads MicroPython as tests/wasm/serve.mjs does, copies ember (modules/ember), the runner
// (tests/run_cases.py) and the test file into its filesystem, and starts the runner as an asyncio
// task: this build has no asyncio.run, its event loop is Node's, and Node exits once the last task
// is done. Prints what tests/run_cases.py prints (CASE ... lines).
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");

const [testFile] = process.argv.slice(2);
if (!testFile) {
  console.error("usage: node tests/wasm/cases.mjs TEST_FILE");
  process.exit(2);
}

function copyTree(FS, src, dst) {
  FS.mkdirTree(dst);
  for (const name of readdirSync(src)) {
    const from = path.join(src, name);
    if (statSync(from).isDirectory()) {
      if (name !== "__pycache__") copyTree(FS, from, `${dst}/${name}`);
    } else if (name.endsWith(".py")) {
      FS.writeFile(`${dst}/${name}`, readFileSync(from));
    }
  }
}

const mp = await loadMicroPython({
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
copyTree(mp.FS, path.join(ROOT, "modules", "ember"), "/lib/ember");
mp.FS.writeFile("/lib/run_cases.py", readFileSync(path.join(ROOT, "tests", "run_cases.py")));
mp.FS.mkdirTree("/cases");
const target = `/cases/${path.basename(testFile)}`;
mp.FS.writeFile(target, readFileSync(testFile));
mp.FS.mkdirTree("/tmp");

mp.runPython(`
import asyncio, run_cases
asyncio.create_task(run_cases.run_file(${JSON.stringify(target)}))
`);
