// MicroPython's webassembly build with ember in its filesystem: what tests/wasm/serve.mjs (an app
// over TCP) and tests/wasm/cases.mjs (in-process cases) both start from.
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

// Copy a host directory tree of .py files into the MicroPython (Emscripten) filesystem.
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

// MicroPython printing to this process's stdout and stderr, with ember as /lib/ember.
export async function loadWithEmber() {
  const mp = await loadMicroPython({
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  });
  copyTree(mp.FS, path.join(ROOT, "modules", "ember"), "/lib/ember");
  return mp;
}
