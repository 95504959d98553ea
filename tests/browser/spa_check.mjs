// Opens a page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) and
// prints, as one JSON line, what examples/spa's client recorded in window.checks: whether fetch,
// EventSource and WebSocket all worked from a real browser. Also the asset responses' headers.
//
//   node tests/browser/spa_check.mjs URL [CHROMIUM]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [url, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
const profile = mkdtempSync(path.join(tmpdir(), "ember-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const result = { assets: {}, console: [] };
try {
  const page = await context.newPage();
  page.on("console", (m) => result.console.push(m.text()));
  page.on("response", async (r) => {
    result.assets[new URL(r.url()).pathname] = {
      status: r.status(),
      encoding: (await r.allHeaders())["content-encoding"] || null,
    };
  });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(
    () => {
      const c = window.checks;
      return c && c.fetch && c.sse && c.sse.id >= 2 && c.ws;
    },
    null,
    { timeout: 15000 },
  );
  result.checks = await page.evaluate(() => window.checks);
  result.title = await page.title();
  // A click goes through fetch (POST JSON) and comes back on the event stream.
  await page.click("#toggle");
  await page.waitForFunction(() => window.checks.sse.data.led === true, null, { timeout: 10000 });
  result.after_click = await page.evaluate(() => window.checks.sse.data);
} catch (e) {
  result.error = String(e);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + "\n");
