// A cooperative's owner invites an editor, in Debian's chromium: the owner signs in and makes
// the link; the editor (a browser of their own) opens it, chooses a password, lands signed in,
// edits a product of the cooperative, is refused another cooperative's product, signs out;
// then the old session cookie is tried again.
// Usage: node people.mjs CASE.json RESULT.json SCREENSHOT_DIR
// CASE.json: {"base": "http://127.0.0.1:PORT", "owner": {"login", "password"},
//             "editor": {"login", "password", "name"}, "own_product": 1, "other_product": 5,
//             "new_name": "..."}
// RESULT.json gets every step's status and URL, the HTML of every page, the session cookies.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { launch } from "./launch.mjs";
import { shot } from "./shot.mjs";

const [caseFile, resultFile, shotDir] = process.argv.slice(2);
const c = JSON.parse(readFileSync(caseFile, "utf8"));
mkdirSync(shotDir, { recursive: true });
const result = { steps: {}, pages: [], cookies: [], invite_page: "" };

const browser = await launch();

// Notes a step: the status of the page's main response, where it ended, what it showed.
async function step(name, page, response) {
  const html = await page.content();
  result.steps[name] = {
    status: response ? response.status() : 0,
    path: new URL(page.url()).pathname,
    text: (await page.locator("main").innerText()).trim(),
  };
  result.pages.push(html);
  await shot(page, { path: `${shotDir}/people-${name}.png` });
}

async function sessionCookie(context) {
  const cookie = (await context.cookies()).find((k) => k.name.endsWith("truyxuat_session"));
  if (cookie) result.cookies.push(cookie.value);
  return cookie;
}

try {
  // The owner signs in and invites an editor.
  const owner = await browser.newContext({ locale: "vi-VN" });
  const op = await owner.newPage();
  await op.goto(`${c.base}/login`);
  await op.fill("input[name=login]", c.owner.login);
  await op.fill("input[name=password]", c.owner.password);
  let response = await Promise.all([op.waitForNavigation(), op.click("button[type=submit]")]);
  await step("owner_signed_in", op, response[0]);
  await sessionCookie(owner);
  await op.click("a[href='/console/invite']");
  await op.selectOption("select[name=role]", "editor");
  response = await Promise.all([op.waitForNavigation(), op.click("form.entity button[type=submit]")]);
  const link = await op.inputValue("#invite-link");
  result.steps.invited = { status: response[0].status(), path: new URL(op.url()).pathname, text: link };
  // The one page that shows the link, by design; every other page must not.
  result.invite_page = await op.content();
  await shot(op, { path: `${shotDir}/people-invited.png` });

  // The editor, on a phone of their own, opens the link (its path, on this server).
  const editor = await browser.newContext({ locale: "vi-VN", viewport: { width: 360, height: 640 } });
  const ep = await editor.newPage();
  response = await ep.goto(`${c.base}${new URL(link).pathname}`);
  await step("link_opened", ep, response);
  await ep.fill("input[name=display_name]", c.editor.name);
  await ep.fill("input[name=login]", c.editor.login);
  await ep.fill("input[name=password]", c.editor.password);
  response = await Promise.all([ep.waitForNavigation(), ep.click("button[type=submit]")]);
  await step("accepted", ep, response[0]);
  await sessionCookie(editor);

  // …signs in again with the password they chose (a fresh browser: no old cookie).
  await editor.clearCookies();
  await ep.goto(`${c.base}/login`);
  await ep.fill("input[name=login]", c.editor.login);
  await ep.fill("input[name=password]", c.editor.password);
  response = await Promise.all([ep.waitForNavigation(), ep.click("button[type=submit]")]);
  await step("editor_signed_in", ep, response[0]);
  const session = await sessionCookie(editor);

  // …edits a product of the cooperative.
  response = await ep.goto(`${c.base}/console/products/${c.own_product}`);
  await step("own_product", ep, response);
  await ep.fill("input[name=name]", c.new_name);
  response = await Promise.all([ep.waitForNavigation(), ep.click("form.entity button[type=submit]")]);
  await step("edited", ep, response[0]);

  // …cannot open another cooperative's.
  response = await ep.goto(`${c.base}/console/products/${c.other_product}`);
  await step("other_product", ep, response);

  // …signs out, and the old cookie opens nothing.
  await ep.goto(`${c.base}/console`);
  response = await Promise.all([ep.waitForNavigation(), ep.click("#logout")]);
  await step("signed_out", ep, response[0]);
  const replay = await editor.request.get(`${c.base}/console`, {
    headers: { cookie: `${session.name}=${session.value}` },
    maxRedirects: 0,
  });
  result.steps.replayed = { status: replay.status(), path: replay.headers()["location"] || "", text: "" };
} catch (e) {
  result.error = String(e.stack || e);
} finally {
  await browser.close();
}
writeFileSync(resultFile, JSON.stringify(result));
