// The console's entry point: sign-in, then the search and case views over
// the REST API. No framework, no network but this server's.
import { Api } from './api.js';
import { CaseView } from './case.js';
import { CreateDialog } from './create.js';
import { SearchView } from './search.js';

const api = new Api();
const $ = (id) => document.getElementById(id);

function show(text, ok = false) {
  const m = $('message');
  m.textContent = text;
  m.className = ok ? 'message ok' : 'message';
  m.hidden = false;
}
function showError(e) { show(e.describe ? e.describe() : String(e)); }
function clearMessage() { $('message').hidden = true; }

async function refreshStats() {
  try {
    const s = await api.stats();
    $('stats').textContent = `${s.entries} entries in ${s.cases} cases${s.readOnly ? ' — READ-ONLY: writes are refused' : ''}`;
  } catch { /* the console still works without them */ }
}

const search = new SearchView(api, { onOpenCase: openCase, onError: showError });
const caseView = new CaseView(api, {
  onClose: () => { $('case-view').hidden = true; $('search-view').hidden = false; },
  onError: showError,
  onDone: (text, gone) => {
    show(text, true);
    refreshStats();
    if (gone) { $('case-view').hidden = true; $('search-view').hidden = false; search.run(search.page); }
  },
});
new CreateDialog(api, {
  onCreated: (entry) => { show(`Created an entry of case ${entry.caseId}`, true); refreshStats(); openCase(entry.caseId); },
  onError: showError,
});

async function openCase(caseId) {
  clearMessage();
  if (await caseView.open(caseId)) {
    $('search-view').hidden = true;
    $('case-view').hidden = false;
    $('case-close').focus();
  }
}

$('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const user = $('sign-in-user').value;
  const password = $('sign-in-password');
  try {
    const me = await api.signIn(user, password.value);
    password.value = '';
    clearMessage();
    $('who-name').textContent = `${me.name} (${me.role}${me.app ? ', app ' + me.app : ''})`;
    $('who').hidden = false;
    $('sign-in-view').hidden = true;
    $('workspace').hidden = false;
    for (const w of document.querySelectorAll('.writer-only')) w.hidden = me.role !== 'writer';
    refreshStats();
    search.run(0);
  } catch (err) {
    showError(err);
  }
});

$('sign-out').addEventListener('click', () => location.reload());  // forgets the credentials
$('sign-in-user').focus();
