// Serves an ember app from MicroPython's webassembly build, so the integration tests can run
// against real MicroPython where the unix port cannot be built (CI without the submodule).
//
//   node tests/wasm/serve.mjs APP_FILE PORT      (PORT 0 = any free port)
//
// Same contract as tests/serve_app.py: prints `EMBER READY <port>` on stdout once listening.
// The port has no `socket` module, so Node owns the TCP side and hands every connection to
// Python (tests/wasm/jsstream.py) as an object whose methods return promises.
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadWithEmber } from "./micropython.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HIGH_WATER = 64 * 1024; // pause the socket when this much unread input is queued

const [appFile, portArg = "0"] = process.argv.slice(2);
if (!appFile) {
  console.error("usage: node tests/wasm/serve.mjs APP_FILE PORT");
  process.exit(2);
}

// One TCP connection as seen from Python: read(n) / write(base64) / close() return promises of
// strings; "" is EOF (read) or success (write, close), "!CODE" is a Node error code.
function wrap(sock) {
  const queue = [];
  let queued = 0;
  let ended = false;
  let error = null;
  let waiter = null; // {n, resolve} of a read waiting for input

  const take = (n) => {
    if (queued === 0) return error ? `!${error}` : ended ? "" : null;
    const parts = [];
    let size = 0;
    while (queue.length && size < n) {
      const chunk = queue[0];
      const part = chunk.subarray(0, n - size);
      if (part.length === chunk.length) queue.shift();
      else queue[0] = chunk.subarray(part.length);
      parts.push(part);
      size += part.length;
    }
    queued -= size;
    if (queued < HIGH_WATER) sock.resume();
    return Buffer.concat(parts).toString("base64");
  };
  const wake = () => {
    if (!waiter) return;
    const reply = take(waiter.n);
    if (reply !== null) {
      waiter.resolve(reply);
      waiter = null;
    }
  };

  sock.on("data", (chunk) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= HIGH_WATER) sock.pause();
    wake();
  });
  sock.on("end", () => {
    ended = true;
    wake();
  });
  sock.on("error", (err) => {
    error = err.code || "EIO";
    wake();
  });
  sock.on("close", () => {
    ended = true;
    wake();
  });

  return {
    host: sock.remoteAddress,
    port: sock.remotePort,
    read(n) {
      const reply = n > 0 ? take(n) : "";
      if (reply !== null) return Promise.resolve(reply);
      return new Promise((resolve) => {
        waiter = { n, resolve };
      });
    },
    write(b64) {
      if (sock.destroyed || !sock.writable) return Promise.resolve(`!${error || "EPIPE"}`);
      return new Promise((resolve) => {
        sock.write(Buffer.from(b64, "base64"), (err) =>
          resolve(err ? `!${err.code || "EPIPE"}` : ""),
        );
      });
    },
    close() {
      if (sock.destroyed) return Promise.resolve("");
      return new Promise((resolve) => {
        sock.once("close", () => resolve(""));
        sock.end(() => sock.destroy());
        setTimeout(() => sock.destroy(), 1000).unref(); // peer not reading: don't wait forever
      });
    },
  };
}

const mp = await loadWithEmber();
mp.FS.writeFile("/lib/jsstream.py", readFileSync(path.join(HERE, "jsstream.py")));
mp.FS.mkdirTree("/app");
const appName = path.basename(appFile, ".py");
mp.FS.writeFile(`/app/${appName}.py`, readFileSync(appFile));

try {
  mp.runPython(`
import sys
sys.path.append("/app")
import asyncio, jsstream
_app = __import__(${JSON.stringify(appName)}).app

def _accept(conn):
    asyncio.create_task(jsstream.serve(_app.handle, conn))
`);
} catch (err) {
  console.error(`serve.mjs: loading ${appFile} failed:\n${err.message || err}`);
  process.exit(1);
}
const accept = mp.globals.get("_accept");

// allowHalfOpen: a client that shuts down its sending side still gets its reply, as on a device.
const server = net.createServer({ allowHalfOpen: true }, (sock) => accept(wrap(sock)));
server.listen(Number(portArg), "127.0.0.1", () => {
  process.stdout.write(`EMBER READY ${server.address().port}\n`);
});
