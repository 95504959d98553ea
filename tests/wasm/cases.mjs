// Runs the in-process cases of a test file in MicroPython's webassembly build:
//
//   node tests/wasm/cases.mjs TEST_FILE
//
// Loads MicroPython as tests/wasm/serve.mjs does, copies ember (modules/ember), the runner
// (tests/run_cases.py) and the test file into its filesystem, and starts the runner as an asyncio
// task: this build has no asyncio.run, its event loop is Node's, and Node exits once the last task
// is done. Prints what tests/run_cases.py prints (CASE ... lines).
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, loadWithEmber } from "./micropython.mjs";

const [testFile] = process.argv.slice(2);
if (!testFile) {
  console.error("usage: node tests/wasm/cases.mjs TEST_FILE");
  process.exit(2);
}

const mp = await loadWithEmber();
mp.FS.writeFile("/lib/run_cases.py", readFileSync(path.join(ROOT, "tests", "run_cases.py")));
mp.FS.mkdirTree("/cases");
const target = `/cases/${path.basename(testFile)}`;
mp.FS.writeFile(target, readFileSync(testFile));
mp.FS.mkdirTree("/tmp");

mp.runPython(`
import asyncio, run_cases
asyncio.create_task(run_cases.run_file(${JSON.stringify(target)}))
`);
