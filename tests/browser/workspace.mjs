// A cooperative's workspace in Debian's chromium: an editor on a phone (360 x 640) gives a
// product a phone's photo (and sees it on the public page), submits a certificate with its
// evidence (and reads its SHA-256), downloads
// the template, checks a workbook of 50 products with 2 bad rows (sees both errors, downloads
// the error file), imports the valid rows and then the fixed ones; a printer at a desk
// (1280 x 800) orders 10,000 labels and downloads the A4 PDF. Every page is checked for
// sideways scrolling at its width.
// Usage: node workspace.mjs CASE.json RESULT.json OUT_DIR
// CASE.json: {"base", "editor": {"login", "password"}, "printer": {"login", "password"},
//             "product": ID, "lot": CODE, "products_xlsx": PATH, "fixed_xlsx": PATH,
//             "photo": PATH, "evidence": PATH}
// RESULT.json gets each step's facts; OUT_DIR the downloads and the screenshots.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { launch } from "./launch.mjs";
import { shot } from "./shot.mjs";

const [caseFile, resultFile, outDir] = process.argv.slice(2);
const c = JSON.parse(readFileSync(caseFile, "utf8"));
mkdirSync(outDir, { recursive: true });
const result = { steps: {}, overflow: [] };

const browser = await launch();

// Notes a page: a screenshot, and whether it scrolls sideways at its width.
async function look(name, page) {
  await shot(page, { path: `${outDir}/${name}.png`, fullPage: true });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  if (wide) result.overflow.push(name);
}

async function signIn(page, who) {
  await page.goto(`${c.base}/login`);
  await page.fill("input[name=login]", who.login);
  await page.fill("input[name=password]", who.password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
}

// A PDF of 10,000 labels is rendered before its download starts: on two cores busy with
// the rest of the suite that took over Playwright's default 30 s once, so it may take 2 min.
async function download(page, click, file) {
  // The click waits for the response too.
  page.setDefaultTimeout(120000);
  const [d] = await Promise.all([page.waitForEvent("download", { timeout: 120000 }), click()]);
  await d.saveAs(`${outDir}/${file}`);
  return d.suggestedFilename();
}

try {
  // The editor, on a phone.
  const phone = await browser.newContext({ locale: "vi-VN", viewport: { width: 360, height: 640 } });
  const ep = await phone.newPage();
  await signIn(ep, c.editor);
  await look("editor-console", ep);

  // A photo taken on the phone, for a product.
  await ep.goto(`${c.base}/console/products/${c.product}`);
  await ep.setInputFiles("form#photo input[name=photo]", c.photo);
  await Promise.all([ep.waitForNavigation(), ep.click("form#photo button[type=submit]")]);
  await look("product-photo", ep);
  const shown = ep.locator("form#photo img");
  await shown.waitFor();
  result.steps.photo = {
    src: await shown.getAttribute("src"),
    natural: await shown.evaluate((img) => [img.naturalWidth, img.naturalHeight]),
  };
  await ep.goto(`${c.base}/products/${c.product}`);
  const onPage = ep.locator("#product img");
  await onPage.scrollIntoViewIfNeeded();
  await ep.waitForFunction(() => document.querySelector("#product img").complete);
  await look("product-page-photo", ep);
  result.steps.public_photo = await onPage.evaluate((img) => ({
    current: img.currentSrc, natural: [img.naturalWidth, img.naturalHeight],
    width: img.getAttribute("width"), height: img.getAttribute("height"), loading: img.loading,
  }));

  // A certificate and its evidence.
  await ep.goto(`${c.base}/console`);
  await Promise.all([ep.waitForNavigation(), ep.click("#certificates-link")]);
  const pick = (select, test) => ep.$eval(select, (s, test) =>
    [...s.options].find((o) => o.value && o.text.includes(test)).value, test);
  await ep.selectOption("select[name=holder_id]", await pick("select[name=holder_id]", "Xuân Thọ"));
  await ep.selectOption("select[name=kind]", "vietgap");
  await ep.fill("input[name=number]", "VG-TRINH-2026-117");
  await ep.selectOption("select[name=issuer_id]", await pick("select[name=issuer_id]", ""));
  await ep.fill("input[name=issued_on]", "2026-01-15");
  await ep.fill("input[name=valid_until]", "2028-01-14");
  await ep.setInputFiles("input[name=evidence]", c.evidence);
  await Promise.all([ep.waitForNavigation(), ep.click("#new-certificate button[type=submit]")]);
  await look("certificate-submitted", ep);
  result.steps.certificate = await ep.locator("#certificates tbody tr", { hasText: "VG-TRINH-2026-117" })
    .innerText();
  await ep.goto(`${c.base}/console`);
  await Promise.all([ep.waitForNavigation(), ep.click("#import-link")]);
  await look("import", ep);
  result.steps.template = await download(ep, () => ep.click("#template"), "template.xlsx");

  await ep.setInputFiles("input[name=file]", c.products_xlsx);
  await Promise.all([ep.waitForNavigation(), ep.click("button[value=check]")]);
  await look("import-checked", ep);
  result.steps.checked = {
    errors: await ep.locator("#errors tbody tr").allInnerTexts(),
    stored: await ep.locator("#counts").innerText(),
  };
  result.steps.error_file = await download(ep, () => ep.click("#error-file"), "errors.xlsx");

  await ep.setInputFiles("input[name=file]", c.products_xlsx);
  await ep.check("input[name=valid_rows_only]");
  await Promise.all([ep.waitForNavigation(), ep.click("#import")]);
  await look("import-valid-rows", ep);
  result.steps.valid_rows = await ep.locator("#counts tbody tr").first().innerText();

  await ep.setInputFiles("input[name=file]", c.fixed_xlsx);
  await ep.uncheck("input[name=valid_rows_only]");
  await Promise.all([ep.waitForNavigation(), ep.click("#import")]);
  await look("import-fixed", ep);
  result.steps.fixed = await ep.locator("#counts tbody tr").first().innerText();
  await Promise.all([ep.waitForNavigation(), ep.click("a[href='/console']")]);
  await Promise.all([ep.waitForNavigation(), ep.click("#labels-link")]);
  await look("editor-batches", ep);

  // The printer, at a desk.
  const desk = await browser.newContext({ locale: "vi-VN", viewport: { width: 1280, height: 800 } });
  const pp = await desk.newPage();
  await signIn(pp, c.printer);
  await Promise.all([pp.waitForNavigation(), pp.click("#labels-link")]);
  await pp.selectOption("select[name=product_id]", String(c.product));
  await pp.fill("input[name=count]", "10.000");
  await pp.fill("input[name=lot]", c.lot);
  await Promise.all([pp.waitForNavigation(), pp.click("#order button[type=submit]")]);
  await look("batch", pp);
  result.steps.batch = { path: new URL(pp.url()).pathname, count: await pp.locator("#count").innerText() };
  await pp.selectOption("select[name=format]", "pdf");
  await pp.selectOption("select[name=layout]", "a4-5x8");
  result.steps.pdf = await download(pp, () => pp.click("#print button[type=submit]"), "labels.pdf");
  // The same pages on the other screen.
  await pp.setViewportSize({ width: 360, height: 640 });
  await pp.reload();
  await look("batch-phone", pp);
  await pp.goto(`${c.base}/console/batches`);
  await look("batches-phone", pp);
  await ep.setViewportSize({ width: 1280, height: 800 });
  await ep.goto(`${c.base}/console/import`);
  await look("import-desk", ep);
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  writeFileSync(resultFile, JSON.stringify(result, null, 2));
  await browser.close();
}
