// Opens a month page (a local HTML file) in Debian's headless Chromium at a desktop and a phone
// width, as a reader would; prints one JSON object: per width, the console errors, every request
// the page made (a self-contained page makes none but its own file), the page's width against
// the viewport (nothing wider than a phone), and the figures in its data attributes; saves a
// screenshot of each width next to OUT_PREFIX.
//
//   node check.mjs PAGE.html OUT_PREFIX
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [page_path, out_prefix] = process.argv.slice(2);
const url = pathToFileURL(page_path).href;
const browser = await chromium.launch({
  executablePath: process.env.BILLWATCH_CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const result = {};
for (const [name, viewport] of [["desktop", { width: 1280, height: 900 }], ["phone", { width: 390, height: 844 }]]) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const console_errors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console_errors.push(m.text()); });
  page.on("pageerror", (e) => console_errors.push(String(e)));
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(url, { waitUntil: "load" });
  const figures = await page.evaluate(() => {
    const sections = [...document.querySelectorAll("section[data-section]")].map((s) => ({
      title: s.dataset.section,
      currency: s.dataset.currency,
      actual: s.dataset.actual,
      amount: s.dataset.amount ?? null,
      forecast: s.dataset.forecast ?? null,
      days: [...s.querySelectorAll("rect[data-day]")].map((r) => [Number(r.dataset.day), r.dataset.spend]),
      anomaly_days: [...s.querySelectorAll("rect[data-anomaly]")].map((r) => Number(r.dataset.day)),
      text: s.innerText,
    }));
    return { sections, scroll_width: document.documentElement.scrollWidth, title: document.title };
  });
  await page.screenshot({ path: `${out_prefix}-${name}.png`, fullPage: true });
  result[name] = { console_errors, requests, viewport_width: viewport.width, ...figures };
  await context.close();
}
await browser.close();
console.log(JSON.stringify(result));
