// The caserepo REST API, as the console uses it: the same public endpoints
// every client calls. Credentials live in this object only (never in
// storage): a reload signs out.
export class ApiError extends Error {
  constructor(status, name, message) {
    super(message);
    this.status = status;
    this.name = name;
  }
  describe() { return `${this.name}: ${this.message}`; }
}

const BASE = '/api/case-repository';

function basic(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return 'Basic ' + btoa(binary);
}

export class Api {
  #auth = null;

  async signIn(user, password) {
    this.#auth = basic(user, password);
    try {
      return await this.request('GET', '/v1/me');
    } catch (e) {
      this.#auth = null;
      throw e;
    }
  }
  signOut() { this.#auth = null; }

  async request(method, path, body) {
    // Marked as a script's call: a 401 then carries no Basic challenge, which
    // would make the browser show its own sign-in dialog.
    const headers = { 'X-Requested-With': 'XMLHttpRequest' };
    if (this.#auth) headers.Authorization = this.#auth;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, 'NetworkError', 'the server cannot be reached');
    }
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!response.ok) {
      throw new ApiError(response.status, json?.error ?? `HTTP ${response.status}`, json?.message ?? text);
    }
    return json;
  }

  get(caseId) { return this.request('GET', `/v1?caseId=${encodeURIComponent(caseId)}`); }
  history(caseId) { return this.request('GET', `/v1/history?caseId=${encodeURIComponent(caseId)}`); }
  search(request) { return this.request('POST', '/v1/search', request); }
  facets(field, filter) { return this.request('POST', '/v1/facets', { field, filter }); }
  create(request) { return this.request('POST', '/v1', request); }
  update(caseId, patch) { return this.request('PATCH', `/v1?caseId=${encodeURIComponent(caseId)}`, patch); }
  remove(caseId) { return this.request('DELETE', `/v1?caseId=${encodeURIComponent(caseId)}`); }

  // entries, cases, readOnly: from the operators' /metrics page.
  async stats() {
    const text = await (await fetch('/metrics')).text();
    const value = (name) => Number((text.match(new RegExp(`^${name} (\\S+)`, 'm')) || [])[1]);
    return { entries: value('caserepo_entries'), cases: value('caserepo_cases'), readOnly: value('caserepo_read_only') === 1 };
  }
}
