#!/usr/bin/python3
"""The operator console in real headless Chromium (Selenium + chromium-driver),
against a caserepo-server on generated data: sign in, search by client and
status and compare the table with the API's answer, page with the token,
narrow by a facet, open a history, a writer creates and removes a case, a
reader sees no write buttons. Writes screenshots of the main views to
$CASEREPO_SCREENSHOTS (default: the test's temporary directory).

    console_test.py PATH/TO/caserepo-server PATH/TO/caserepo"""
import os
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.common.exceptions import StaleElementReferenceException, NoSuchElementException
from selenium.webdriver.support.ui import Select, WebDriverWait

from harness import API, Client, Failures, Server, add_user, new_workdir

binary, cli = sys.argv[1], sys.argv[2]
t = Failures("console")
work = new_workdir("caserepo-console-")
shots = os.environ.get("CASEREPO_SCREENSHOTS") or work
os.makedirs(shots, exist_ok=True)
users = os.path.join(work, "users")
add_user(binary, users, "ops", "ops-secret", "writer")
add_user(binary, users, "auditor", "aud-secret", "reader")
data = os.path.join(work, "data")
subprocess.run([cli, "--data", data, "generate", "3000"], check=True, capture_output=True)
server = Server(binary, data, users, "--access-log", "off").start()
api = Client(server, "ops", "ops-secret")
base = f"http://{server.host}:{server.port}/console/"

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
            "--window-size=1280,800", f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"]:
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 15)
by_id = lambda i: driver.find_element(By.ID, i)  # noqa: E731


def visible(i):
    return wait.until(EC.visibility_of_element_located((By.ID, i)))


def table_cases():
    return [b.get_attribute("data-case") for b in driver.find_elements(By.CSS_SELECTOR, "#results-table tbody button[data-case]")]


def wait_for_results(previous=None):
    """Waits until the results table shows something other than `previous`."""
    def ready(_):
        try:
            total = by_id("total").text
            rows = table_cases()
            return (total, rows, by_id("page-of").text) if (total, rows, by_id("page-of").text) != previous else False
        except Exception:  # noqa: BLE001 - re-rendering
            return False
    return wait.until(ready)


def current_field(field):
    """The case view's current-entry value of `field`, or None while it re-renders."""
    try:
        return by_id("current-entry").find_element(By.CSS_SELECTOR, f"dd[data-field={field}]").text
    except (StaleElementReferenceException, NoSuchElementException):
        return None


def shows(expected_rows, expected_total=None):
    """Waits until the table shows exactly these rows (and total); returns what it shows."""
    seen = [None]
    def ready(_):
        try:
            seen[0] = (by_id("total").text, table_cases(), by_id("page-of").text)
        except (StaleElementReferenceException, NoSuchElementException):
            return False
        return seen[0][1] == expected_rows and (expected_total is None or seen[0][0] == expected_total)
    try:
        wait.until(ready)
    except Exception:  # noqa: BLE001 - reported by the caller's check
        pass
    return seen[0]


def screenshot(name):
    """The whole page, at the window's width."""
    width, height = driver.get_window_size()["width"], driver.get_window_size()["height"]
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, max(height, full + 140))
    driver.save_screenshot(os.path.join(shots, name))
    driver.set_window_size(width, height)


def api_search(request):
    code, _, body, _ = api.request("POST", API + "/v1/search", request)
    assert code == 200, body
    return body


def sign_in(user, password):
    driver.get(base)
    visible("sign-in-user").send_keys(user)
    by_id("sign-in-password").send_keys(password + Keys.ENTER)


try:
    # Sign-in: a wrong password is a readable error; the right one opens the search.
    sign_in("ops", "wrong")
    message = visible("message")
    t.check("wrong password: readable error", "Unauthorized" in message.text, message.text)
    screenshot("sign-in.png")
    by_id("sign-in-password").clear()
    by_id("sign-in-password").send_keys("ops-secret" + Keys.ENTER)
    visible("results-table")
    state = wait_for_results()
    everything = api_search({})
    t.equal("first page: total = API", state[0], f"{everything['totalElements']} entries")
    t.equal("first page: rows = API", state[1], [e["caseId"] for e in everything["content"]])
    t.check("stats shown", "entries in" in by_id("stats").text, by_id("stats").text)
    t.check("password field emptied", by_id("sign-in-password").get_attribute("value") == "", "")

    # Search by client and status: chips, then the table against the API.
    busiest = api_search({"size": 1000})["content"]
    client = max({e["clientId"] for e in busiest}, key=lambda c: sum(e["clientId"] == c for e in busiest))
    statuses = sorted({e["status"] for e in busiest if e["clientId"] == client})[:2]
    chip = by_id("chip-clientId")
    chip.send_keys(client + Keys.ENTER)
    for s in statuses:
        by_id("chip-status").send_keys(s + Keys.ENTER)
    Select(by_id("size")).select_by_visible_text("10")
    by_id("search-button").click()
    want = api_search({"clientId": [client], "status": statuses, "size": 10})
    state = shows([e["caseId"] for e in want["content"]], f"{want['totalElements']} entries")
    t.equal("client+status: total = API", state[0], f"{want['totalElements']} entries")
    t.equal("client+status: rows = API", state[1], [e["caseId"] for e in want["content"]])
    rows = driver.find_elements(By.CSS_SELECTOR, "#results-table tbody tr")
    t.check("client+status: every row matches", all(client in r.text for r in rows), [r.text for r in rows][:3])
    screenshot("search.png")

    # Paging with the token: back to the empty filter (10 a page), then Next.
    by_id("clear-button").click()
    first = api_search({"size": 10})
    state = shows([e["caseId"] for e in first["content"]])
    t.equal("page 1 = API", state[1], [e["caseId"] for e in first["content"]])
    by_id("next-page").click()
    second = api_search({"size": 10, "pageToken": first["nextPageToken"]})
    state = shows([e["caseId"] for e in second["content"]])
    t.equal("Next uses the token: page 2 = API", state[1], [e["caseId"] for e in second["content"]])
    t.equal("page indicator", state[2], f"page 2 of {first['totalPages']}")

    # A facet click narrows: the total becomes the facet's count.
    visible("facets")
    wait.until(lambda _: driver.find_elements(By.CSS_SELECTOR, "#facets ul[data-facet=status] button"))
    facet = driver.find_elements(By.CSS_SELECTOR, "#facets ul[data-facet=status] button")[1]
    value = facet.get_attribute("data-value")
    count = facet.find_element(By.CSS_SELECTOR, ".count").text
    facet.click()
    narrowed = api_search({"status": [value], "size": 10})
    state = shows([e["caseId"] for e in narrowed["content"]], f"{count} entries")
    t.equal(f"facet status={value} narrows to its count", state[0], f"{count} entries")
    chips = [c.text.rstrip("×").strip() for c in driver.find_elements(By.CSS_SELECTOR, "#chips-status .chip")]
    t.equal("facet value became a chip", chips, [value])

    # A case's history.
    case = state[1][0]
    driver.find_element(By.CSS_SELECTOR, f"button[data-case='{case}']").click()
    visible("case-view")
    wait.until(lambda _: by_id("case-history").find_elements(By.TAG_NAME, "li"))
    code, _, hist, _ = api.request("GET", f"{API}/v1/history?caseId={case}")
    t.equal("history: one timeline item per entry", len(by_id("case-history").find_elements(By.TAG_NAME, "li")), len(hist))
    t.equal("current status shown", current_field("status"), hist[-1]["status"])
    screenshot("case.png")
    by_id("case-close").click()
    visible("search-view")

    # A writer creates a case, then removes it after confirming.
    visible("new-button").click()
    visible("create-dialog")
    for field, v in [("caseId", "console-made-1"), ("caseType", "LOAN"), ("clientId", "77777777777"),
                     ("clientType", "PESEL"), ("status", "OPEN"), ("statusDescription", "made in the console")]:
        by_id(f"create-{field}").send_keys(v)
    screenshot("create.png")
    by_id("create-button").click()
    visible("case-view")
    wait.until(lambda _: "console-made-1" in by_id("case-title").text)
    t.equal("created: the API has it", api.request("GET", f"{API}/v1?caseId=console-made-1")[0], 200)
    by_id("update-status").send_keys("IN_PROGRESS")
    by_id("update-button").click()
    wait.until(lambda _: current_field("status") == "IN_PROGRESS")
    t.equal("updated: the API agrees", api.request("GET", f"{API}/v1?caseId=console-made-1")[2]["status"], "IN_PROGRESS")
    by_id("remove-button").click()
    visible("confirm-dialog")
    by_id("confirm-no").click()
    t.equal("cancelled removal keeps the case", api.request("GET", f"{API}/v1?caseId=console-made-1")[0], 200)
    by_id("remove-button").click()
    visible("confirm-yes").click()
    wait.until(lambda _: "Removed case console-made-1" in by_id("message").text)
    t.equal("removed: the API agrees", api.request("GET", f"{API}/v1?caseId=console-made-1")[0], 404)

    # Errors from the API are readable: a create that conflicts.
    visible("new-button").click()
    for field, v in [("caseId", case), ("caseType", "SOMETHING_ELSE"), ("clientId", "1"), ("clientType", "P"), ("status", "X")]:
        by_id(f"create-{field}").send_keys(v)
    by_id("create-button").click()
    wait.until(lambda _: "Conflict" in by_id("message").text)
    t.check("conflict shown as a readable message", "belongs to another client" in by_id("message").text, by_id("message").text)
    by_id("create-cancel").click()

    # A reader sees no write buttons.
    by_id("sign-out").click()
    sign_in("auditor", "aud-secret")
    visible("results-table")
    t.check("reader: no New entry button", not by_id("new-button").is_displayed(), "")
    driver.find_elements(By.CSS_SELECTOR, "#results-table tbody button[data-case]")[0].click()
    visible("case-view")
    t.check("reader: no update or remove", not by_id("update-form").is_displayed() and not by_id("remove-button").is_displayed(), "")

    # Readable on a narrow screen: no horizontal scrolling of the page.
    driver.set_window_size(400, 860)
    by_id("case-close").click()
    visible("search-view")
    time.sleep(0.3)
    overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    t.check("narrow screen: no page-wide horizontal scroll", overflow <= 1, f"{overflow}px")
    screenshot("narrow.png")

    # Keyboard: the sign-in form is usable without a mouse; every control has a label.
    unlabelled = driver.execute_script("""
      return [...document.querySelectorAll('input, select')].filter(e => e.type !== 'hidden' &&
        !document.querySelector(`label[for="${e.id}"]`) && !e.closest('label') && !e.getAttribute('aria-label')).map(e => e.id)""")
    t.equal("every form control has a label", unlabelled, [])
finally:
    driver.quit()
    server.stop()
t.finish()
