"""Console acceptance test in a real browser: headless Chromium (Debian's
/usr/bin/chromium with its chromedriver) driven by Selenium.

Run by crates/vigil/tests/console_browser.rs against a `vigil serve` it
seeded with a user, alerts and a playbook run waiting for approval. Reads:
VIGIL_URL, VIGIL_USER, VIGIL_PASSWORD (an analyst), VIGIL_ADMIN_USER,
VIGIL_ADMIN_PASSWORD (an admin), VIGIL_ARTIFACTS (screenshots),
optionally VIGIL_CHROMIUM / VIGIL_CHROMEDRIVER. Prints one line per step and
exits non-zero on the first failure (with a screenshot of the page).
"""

import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

URL = os.environ["VIGIL_URL"].rstrip("/")
USER = os.environ["VIGIL_USER"]
PASSWORD = os.environ["VIGIL_PASSWORD"]
ADMIN = os.environ["VIGIL_ADMIN_USER"]
ADMIN_PASSWORD = os.environ["VIGIL_ADMIN_PASSWORD"]
NEW_USER = "vic"
NEW_PASSWORD = "a new password 5678"
ART = os.environ["VIGIL_ARTIFACTS"]
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

os.makedirs(ART, exist_ok=True)


def driver():
    o = Options()
    o.binary_location = os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1400,1000"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    s = Service(executable_path=os.environ.get("VIGIL_CHROMEDRIVER", "/usr/bin/chromedriver"))
    d = webdriver.Chrome(service=s, options=o)
    d.set_page_load_timeout(60)
    return d


d = driver()
step_no = 0


def shot(name):
    path = os.path.join(ART, f"console-{name}.png")
    d.save_screenshot(path)
    return path


def step(name):
    global step_no
    step_no += 1
    print(f"step {step_no}: {name}", flush=True)


def check(cond, what):
    if not cond:
        p = shot(f"failed-{step_no}")
        print(f"FAILED: {what} (url {d.current_url}; screenshot {p})", flush=True)
        print(d.page_source[:4000], flush=True)
        d.quit()
        sys.exit(1)


def gone(old):
    """A wait condition: `old` no longer belongs to the page. Chromium may
    answer a node detached mid-navigation with "Node with given id does not
    belong to the document" instead of a stale-element error; both mean
    the old page is gone."""

    def check(_driver):
        try:
            old.is_enabled()
            return False
        except (StaleElementReferenceException, WebDriverException):
            return True

    return check


def go(el):
    """Clicks something that loads a new page and waits until it has."""
    old = d.find_element(By.TAG_NAME, "html")
    el.click()
    WebDriverWait(d, 30).until(gone(old))
    WebDriverWait(d, 30).until(EC.presence_of_element_located((By.TAG_NAME, "main")))


def text(css):
    els = d.find_elements(By.CSS_SELECTOR, css)
    return els[0].text if els else ""


def sign_in(user, password):
    """Signs in from a fresh sign-in page."""
    d.get(URL + "/login")
    d.find_element(By.ID, "username").send_keys(user)
    d.find_element(By.ID, "password").send_keys(password)
    go(d.find_element(By.ID, "sign-in"))


def csp_violations():
    try:
        logs = d.get_log("browser")
    except Exception:  # noqa: BLE001 - not every driver keeps logs
        return []
    return [l["message"] for l in logs if "Content Security Policy" in l["message"]
            or "Refused to" in l["message"]]


try:
    step("anonymous visit is sent to the sign-in page")
    d.get(URL + "/alerts")
    check("/login" in d.current_url, "redirect to /login")
    check(d.find_elements(By.ID, "login-form"), "sign-in form shown")
    shot("01-login")

    step("a wrong password is refused")
    d.find_element(By.ID, "username").send_keys(USER)
    d.find_element(By.ID, "password").send_keys("not the password")
    go(d.find_element(By.ID, "sign-in"))
    check("Wrong user name or password" in text("#login-error"), "generic failure message")

    step("sign in")
    d.find_element(By.ID, "username").clear()
    d.find_element(By.ID, "username").send_keys(USER)
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    go(d.find_element(By.ID, "sign-in"))
    check(d.current_url.endswith("/alerts"), "back to the page asked for: " + d.current_url)
    cookies = {c["name"]: c for c in d.get_cookies()}
    session = cookies.get("vigil_session")
    check(session is not None, "session cookie set")
    check(session.get("httpOnly") is True, "session cookie is HttpOnly")
    check(session.get("sameSite") == "Strict", "session cookie is SameSite=Strict")

    step("see the dashboard")
    go(d.find_element(By.LINK_TEXT, "Dashboard"))
    check(text("h1") == "Dashboard", "dashboard heading")
    check(len(d.find_elements(By.CSS_SELECTOR, "svg.chart")) == 3, "three server-rendered SVG charts")
    check(d.find_elements(By.CSS_SELECTOR, "#alerts-by-severity svg rect"), "severity bars drawn")
    check(USER in text("#whoami"), "signed-in user shown")
    check("Pending approvals" in text("#pending-approvals"), "approvals section")
    # The embedded stylesheet applies (CSP style-src 'self' lets it in).
    bg = d.find_element(By.CSS_SELECTOR, "header.top").value_of_css_property("background-color")
    check(bg in ("rgba(22, 33, 58, 1)", "rgb(22, 33, 58)"), "stylesheet applied: " + bg)
    shot("02-dashboard")

    step("filter the alert queue")
    go(d.find_element(By.LINK_TEXT, "Alerts"))
    Select(d.find_element(By.ID, "f-status")).select_by_value("all")
    go(d.find_element(By.ID, "apply-filters"))
    all_rows = d.find_elements(By.CSS_SELECTOR, "tr.alert-row")
    check(len(all_rows) >= 2, f"at least two alerts in the queue, saw {len(all_rows)}")
    Select(d.find_element(By.ID, "f-severity")).select_by_value("high")
    d.find_element(By.ID, "f-q").send_keys("SSH failed")
    go(d.find_element(By.ID, "apply-filters"))
    check("severity=high" in d.current_url, "filter in the URL: " + d.current_url)
    rows = d.find_elements(By.CSS_SELECTOR, "tr.alert-row")
    check(len(rows) >= 1, "filtered queue has the high alert")
    check(len(rows) < len(all_rows), "filter removed the low alert")
    sevs = [e.text for e in d.find_elements(By.CSS_SELECTOR, "tr.alert-row .sev")]
    check(all(s == "high" for s in sevs), f"only high alerts: {sevs}")
    shot("03-queue-filtered")

    step("triage an alert")
    go(d.find_element(By.CSS_SELECTOR, "tr.alert-row a.alert-link"))
    check(text("#alert-state") == "new", "alert starts new: " + text("#alert-state"))
    check("Failed password" in text("#raw-event"), "raw event shown")
    go(d.find_element(By.ID, "triage-ack"))
    check(text("#alert-state") == "acknowledged", "alert acknowledged: " + text("#alert-state"))
    check("alert marked acknowledged" in text("#notice"), "notice after triage")
    alert_url = d.current_url
    shot("04-alert-triaged")

    step("open an incident from the alert")
    go(d.find_element(By.ID, "open-incident"))
    check("/incidents/" in d.current_url, "on the incident page: " + d.current_url)
    check(text("#incident-title").startswith("INC-"), "incident title")
    check("opened from the alert" in text("#notice"), "notice after opening")
    check("SSH failed" in text("#linked-alerts"), "alert linked to the incident")
    incident_url = d.current_url.split("?")[0]

    step("approve the pending playbook step")
    deadline = time.time() + 60
    while not d.find_elements(By.CSS_SELECTOR, "form.approval button.approve"):
        check(time.time() < deadline, "a run waiting for approval shows on the incident")
        time.sleep(1)
        d.get(incident_url)
    shot("05-incident-pending")
    d.find_element(By.CSS_SELECTOR, "form.approval input[name=comment]").send_keys("confirmed in the browser")
    go(d.find_element(By.CSS_SELECTOR, "form.approval button.approve"))
    check("step approved" in text("#notice"), "notice after approval: " + text("#notice"))
    deadline = time.time() + 60
    while "succeeded" not in text("#runs .run-status"):
        check(time.time() < deadline, "run succeeded after approval: " + text("#runs"))
        time.sleep(1)
        d.get(incident_url)
    check(not d.find_elements(By.CSS_SELECTOR, "form.approval"), "no approval pending any more")
    shot("06-incident-approved")

    step("edit the incident: status, a note, a task marked done, an observable")
    d.get(incident_url)
    Select(d.find_element(By.CSS_SELECTOR, "#incident-update select[name=status]")).select_by_value("containment")
    go(d.find_element(By.ID, "save-incident"))
    check(text("#incident-status") == "containment", "status changed: " + text("#incident-status"))
    d.find_element(By.CSS_SELECTOR, "#add-note textarea[name=text]").send_keys("Blocked 203.0.113.9 at the firewall")
    go(d.find_element(By.CSS_SELECTOR, "#add-note button"))
    check("Blocked 203.0.113.9 at the firewall" in text("#timeline"), "note on the timeline")
    d.find_element(By.CSS_SELECTOR, "#add-task input[name=title]").send_keys("Rotate SSH keys")
    go(d.find_element(By.CSS_SELECTOR, "#add-task button"))
    check("Rotate SSH keys" in text("#tasks"), "task listed")
    go(d.find_element(By.CSS_SELECTOR, "#tasks .task-row button[value=done]"))
    check("done" in text("#tasks .task-status"), "task done: " + text("#tasks"))
    d.find_element(By.CSS_SELECTOR, "#add-observable input[name=value]").send_keys("203.0.113.9")
    go(d.find_element(By.CSS_SELECTOR, "#add-observable button"))
    check("203.0.113.9" in text("#observables"), "observable listed")
    shot("06b-incident-edited")

    step("the rules page and testing a rule against a pasted event")
    d.get(URL + "/rules?q=console")
    check("SSH failed login (console)" in text("#rules"), "rules listed: " + text("#rules"))
    shot("06c-rules")
    d.get(URL + "/rules/test")
    d.find_element(By.ID, "t-rule-yaml").send_keys(
        "title: Whoami\nlogsource: {product: windows, category: process_creation}\n"
        "detection:\n  sel:\n    CommandLine|contains: whoami\n  condition: sel\n"
    )
    d.find_element(By.ID, "t-event").send_keys(
        '{"winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1}, '
        '"process": {"command_line": "cmd /c whoami"}}'
    )
    go(d.find_element(By.ID, "run-test"))
    check(text("#verdict") == "match", "the rule matches: " + text("#test-outcome"))
    check("process.command_line" in text("#test-outcome"), "the mapped field is shown")
    shot("06d-rule-test")

    step("the alert links to its incident and is escalated")
    d.get(alert_url)
    check(text("#alert-state") == "escalated", "alert escalated: " + text("#alert-state"))
    check(d.find_elements(By.ID, "alert-incident"), "link to the incident")

    step("check the CSP header and that nothing was refused")
    req = urllib.request.Request(URL + "/", headers={"Cookie": f"vigil_session={session['value']}"})
    with urllib.request.urlopen(req) as r:
        check(r.status == 200, f"dashboard over HTTP: {r.status}")
        check(r.headers.get("Content-Security-Policy") == CSP, "CSP: " + str(r.headers.get("Content-Security-Policy")))
        check(r.headers.get("X-Content-Type-Options") == "nosniff", "nosniff")
        check(r.headers.get("Referrer-Policy") == "no-referrer", "referrer policy")
        body = r.read().decode()
        check("<script" not in body, "no scripts in the page")
        check(" style=" not in body, "no inline styles in the page")
    v = csp_violations()
    check(not v, f"no CSP violations in the browser: {v}")

    step("an analyst has no settings")
    check(not d.find_elements(By.LINK_TEXT, "Settings"), "no Settings link for an analyst")
    d.get(URL + "/settings")
    check(text("h1") != "Settings", "the settings page is refused: " + text("h1"))

    step("sign out")
    d.get(URL + "/")
    go(d.find_element(By.ID, "logout"))
    check("/login" in d.current_url, "back at sign-in: " + d.current_url)
    d.get(URL + "/")
    check("/login" in d.current_url, "the old session no longer works")
    shot("07-signed-out")

    step("an admin creates a user in the settings")
    sign_in(ADMIN, ADMIN_PASSWORD)
    go(d.find_element(By.LINK_TEXT, "Settings"))
    check(text("h1") == "Settings", "settings heading: " + text("h1"))
    form = d.find_element(By.ID, "create-user")
    form.find_element(By.NAME, "username").send_keys(NEW_USER)
    Select(form.find_element(By.NAME, "role")).select_by_value("viewer")
    form.find_element(By.NAME, "password").send_keys(NEW_PASSWORD)
    go(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    row = f"#user-{NEW_USER}"
    check(text(f"{row} .user-role") == "viewer", "new user listed as viewer: " + text("#users"))
    check(text(f"{row} .user-state") == "active", "new user active: " + text(f"{row} .user-state"))

    step("the admin changes the user's role, creates a token and disables the user")
    Select(d.find_element(By.CSS_SELECTOR, f"{row} select[name=role]")).select_by_value("analyst")
    go(d.find_element(By.CSS_SELECTOR, f"{row} form button[type=submit]"))
    check(text(f"{row} .user-role") == "analyst", "role changed: " + text(f"{row} .user-role"))
    form = d.find_element(By.ID, "create-token")
    form.find_element(By.NAME, "name").send_keys("browser-ingest")
    go(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    check(len(text("#token-secret")) >= 20, "the new token's secret is shown once")
    check("browser-ingest" in text("#tokens"), "token listed: " + text("#tokens"))
    d.get(URL + "/settings")
    check(not d.find_elements(By.ID, "token-secret"), "the secret is not shown again")
    go(d.find_element(By.CSS_SELECTOR, f"{row} button[value=disable]"))
    check(text(f"{row} .user-state") == "disabled", "user disabled: " + text(f"{row} .user-state"))
    shot("08-settings")

    step("the disabled user cannot sign in")
    go(d.find_element(By.ID, "logout"))
    sign_in(NEW_USER, NEW_PASSWORD)
    check("/login" in d.current_url, "still at sign-in: " + d.current_url)
    check("Wrong user name or password" in text("#login-error"), "generic failure message")
finally:
    try:
        d.quit()
    except Exception:  # noqa: BLE001
        pass

print(f"browser: all {step_no} steps passed", flush=True)
