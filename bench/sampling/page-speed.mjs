// Opens an exported generator's page (drift export --format web) in headless Chromium with ?bench=N and prints how
// long ONNX Runtime Web's WebAssembly backend took for N samples, in real time (Chromium's --virtual-time-budget,
// which the tests use, stops the page's clock).
// usage: node bench/sampling/page-speed.mjs EXPORT/web N [SCREENSHOT.png]
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { chromium } from "playwright-core";

const [dir, count = "10000", screenshot] = process.argv.slice(2);
const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const server = createServer(async (req, res) => {
  try {
    const path = join(dir, decodeURIComponent(new URL(req.url, "http://x").pathname));
    const body = await readFile(path);
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
}).listen(0, "127.0.0.1");
await new Promise(r => server.once("listening", r));
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  await page.goto(`http://127.0.0.1:${server.address().port}/index.html?bench=${count}`);
  await page.waitForFunction(() => document.body.dataset.done === "1", null, { timeout: 600_000 });
  const result = JSON.parse(await page.textContent("#result"));
  if (result.error) throw new Error(result.error);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const perSecond = (1000 * result.benchSamples) / result.benchMs;
  console.log(`chromium ${browser.version()}, onnxruntime-web wasm, 1 thread: ${result.benchSamples} samples in ${(result.benchMs / 1000).toFixed(2)} s, ${perSecond.toFixed(0)} per second`);
} finally {
  await browser.close();
  server.close();
}
