// Uses the setup portal's page in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) as a person would, and prints one JSON line of what it saw: the redirect from
// a connectivity probe, the networks shown, the errors after a bad submission, the saved message,
// and for each screenshot (written to OUTDIR) what its pixels hold.
//
//   node tests/browser/portal_check.mjs BASE_URL CHROMIUM OUTDIR first|configured [SECRET]
//
// `first`: a device without a config (pick a network, a too-short password, then a good one).
// `configured`: a device with one (a wrong admin secret is refused, then the right one).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [base, executablePath, outdir, scenario, secret] = process.argv.slice(2);
const profile = mkdtempSync(path.join(tmpdir(), "ember-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 420, height: 1100 }, // a phone's width; tall enough that nothing scrolls
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

// Pixels of a screenshot, read back through a canvas in the same browser: how many distinct
// colours it has (a blank page has one or two), and in each box how many pixels are red-ish
// (error text) or green-ish (the saved heading).
async function pixels(png, boxes) {
  const page = await context.newPage();
  try {
    return await page.evaluate(async ({ data, boxes }) => {
      const img = new Image();
      img.src = "data:image/png;base64," + data;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.width;
      canvas.height = img.height;
      const g = canvas.getContext("2d");
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, img.width, img.height).data;
      const colours = new Set();
      for (let i = 0; i < px.length; i += 4) colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
      const inBox = {};
      for (const [name, box] of Object.entries(boxes)) {
        let red = 0, green = 0;
        for (let y = Math.floor(box.y); y < box.y + box.height; y++) {
          for (let x = Math.floor(box.x); x < box.x + box.width; x++) {
            const i = (y * img.width + x) * 4;
            const [r, gr, b] = [px[i], px[i + 1], px[i + 2]];
            if (r > 120 && r - gr > 60 && Math.abs(gr - b) < 15) red++; // not the orange accent
            if (gr > 80 && gr - r > 40 && gr - b > 20) green++;
          }
        }
        inBox[name] = { red, green };
      }
      return { width: img.width, height: img.height, colours: colours.size, boxes: inBox };
    }, { data: png.toString("base64"), boxes });
  } finally {
    await page.close();
  }
}

async function shot(page, name, selectors) {
  const boxes = {};
  for (const s of selectors) boxes[s] = await page.locator(s).boundingBox();
  const png = await page.screenshot();
  writeFileSync(path.join(outdir, name + ".png"), png);
  return pixels(png, boxes);
}

const text = (page, s) => page.locator(s).textContent();
const result = { console: [], shots: {} };
try {
  const page = await context.newPage();
  page.on("console", (m) => result.console.push(m.text()));
  page.on("pageerror", (e) => result.console.push("pageerror: " + e));
  if (scenario === "first") {
    // What a phone's captive-portal check does: fetch its probe URL, follow the answer.
    const probe = await page.goto(base + "generate_204");
    result.landed = page.url();
    result.encoding = (await probe.allHeaders())["content-encoding"] || null;
    result.redirected = probe.request().redirectedFrom()?.url() || null;
    await page.locator("#networks button").first().waitFor();
    result.networks = await page.locator("#networks button").allTextContents();
    result.injected = await page.locator("#injected").count();
    result.device = await text(page, "#device");
    result.firmware = await text(page, "#firmware");
    result.auth_visible = await page.locator("#auth").isVisible();
    result.shots.loaded = await shot(page, "loaded", ["main"]);
    await page.locator("#networks button", { hasText: "lab" }).click();
    result.picked = { ssid: await page.inputValue("#wifi_ssid"), open: await page.isChecked("#wifi_open") };
    await page.fill("#wifi_password", "short");
    await page.fill("#admin_secret", "a-good-admin-secret");
    await page.click("#submit");
    await page.locator("#e-wifi_password:not(:empty)").waitFor();
    result.error = await text(page, "#e-wifi_password");
    result.error_visible = await page.locator("#e-wifi_password").isVisible();
    result.password_kept = await page.inputValue("#wifi_password");
    result.shots.errors = await shot(page, "errors", ["#e-wifi_password", "#wifi_ssid"]);
    await page.fill("#wifi_password", "correct-horse-battery");
    await page.click("#submit");
    await page.locator("#saved").waitFor({ state: "visible" });
    result.saved = await text(page, "#saved");
    result.form_visible = await page.locator("#form").isVisible();
    result.shots.saved = await shot(page, "saved", ["#saved h2"]);
  } else {
    await page.goto(base);
    await page.locator("#auth").waitFor({ state: "visible" });
    await page.locator("#networks button").first().waitFor();
    result.prefilled = await page.inputValue("#wifi_ssid");
    result.keep_hints = await page.locator(".keep:visible").count();
    await page.fill("#current_secret", "not-the-secret-at-all");
    await page.click("#submit");
    await page.locator("#e-current_secret:not(:empty)").waitFor();
    result.error = await text(page, "#e-current_secret");
    result.shots.refused = await shot(page, "refused", ["#e-current_secret"]);
    await page.fill("#current_secret", secret);
    await page.fill("#wifi_ssid", "cafe");
    await page.check("#wifi_open");
    await page.click("#submit");
    await page.locator("#saved").waitFor({ state: "visible" });
    result.saved = await text(page, "#saved");
    result.shots.saved = await shot(page, "saved", ["#saved h2"]);
  }
} catch (e) {
  result.error_thrown = String(e);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + "\n");
