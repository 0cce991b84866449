// The search view: the filter form (values as chips), the results table with
// its pager, and the facet counts beside it that narrow the search on click.
export const LIST_FIELDS = [
  ['caseId', 'Case id'], ['businessKey', 'Business key'], ['caseType', 'Case type'], ['clientId', 'Client id'],
  ['clientType', 'Client type'], ['status', 'Status'], ['source', 'Source'],
];
export const FACET_FIELDS = [['status', 'Status'], ['caseType', 'Case type'], ['clientType', 'Client type'], ['source', 'Source']];
const DATE_FIELDS = ['creationDateFrom', 'creationDateTo', 'updateDateFrom', 'updateDateTo'];

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return e;
}

// "2025-01-10T14:00:00.000Z" as "2025-01-10 14:00:00" (UTC), the full value as its title.
function when(iso) { return el('time', { datetime: iso, title: iso }, iso.slice(0, 19).replace('T', ' ')); }

export class SearchView {
  constructor(api, { onOpenCase, onError }) {
    this.api = api;
    this.onOpenCase = onOpenCase;
    this.onError = onError;
    this.values = Object.fromEntries(LIST_FIELDS.map(([f]) => [f, []]));
    this.page = 0;
    this.token = null;      // when the current page came from a token
    this.last = null;       // the last result
    this.#buildChips();
    document.getElementById('search-form').addEventListener('submit', (e) => { e.preventDefault(); this.run(0); });
    document.getElementById('clear-button').addEventListener('click', () => this.clear());
  }

  #buildChips() {
    const box = document.getElementById('chip-fields');
    for (const [field, label] of LIST_FIELDS) {
      const input = el('input', { id: `chip-${field}`, placeholder: 'type a value, Enter', 'aria-describedby': `chips-${field}` });
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          if (input.value.trim()) { this.add(field, input.value.trim()); input.value = ''; }
        } else if (e.key === 'Backspace' && !input.value && this.values[field].length) {
          this.values[field].pop();
          this.#renderChips(field);
        }
      });
      const chips = el('span', { class: 'chips', id: `chips-${field}` });
      box.append(el('div', { class: 'chip-field' }, el('label', { for: `chip-${field}` }, label), el('div', { class: 'chips' }, chips, input)));
    }
  }

  #renderChips(field) {
    const box = document.getElementById(`chips-${field}`);
    box.replaceChildren(...this.values[field].map((v, i) => el('span', { class: 'chip', 'data-field': field },
      v, el('button', { type: 'button', 'aria-label': `remove ${field} ${v}`, onclick: () => {
        this.values[field].splice(i, 1);
        this.#renderChips(field);
      } }, '×'))));
  }

  add(field, value) {
    if (!this.values[field].includes(value)) this.values[field].push(value);
    this.#renderChips(field);
  }

  clear() {
    for (const [field] of LIST_FIELDS) { this.values[field] = []; this.#renderChips(field); }
    for (const f of DATE_FIELDS) document.getElementById(f).value = '';
    document.getElementById('currentOnly').checked = false;
    this.run(0);
  }

  // The filter part of a search request (what facets take too).
  filter() {
    const f = {};
    for (const [field] of LIST_FIELDS) {
      // A value typed but not yet entered counts too.
      const pending = document.getElementById(`chip-${field}`).value.trim();
      const values = pending && !this.values[field].includes(pending) ? [...this.values[field], pending] : this.values[field];
      if (values.length) f[field] = values;
    }
    for (const d of DATE_FIELDS) {
      const v = document.getElementById(d).value;
      if (v) f[d] = (v.length === 16 ? v + ':00' : v) + 'Z';
    }
    if (document.getElementById('currentOnly').checked) f.currentOnly = true;
    return f;
  }

  async run(page, token = null) {
    const request = { ...this.filter(), sort: document.getElementById('sort').value, size: Number(document.getElementById('size').value) };
    if (token) request.pageToken = token; else request.page = page;
    try {
      const result = await this.api.search(request);
      this.last = result;
      this.page = result.page;
      this.#renderResults(result);
      this.#loadFacets();
    } catch (e) {
      this.onError(e);
    }
  }

  #renderResults(r) {
    const box = document.getElementById('results');
    const rows = r.content.map((e) => el('tr', {},
      el('td', {}, el('button', { type: 'button', class: 'link', 'data-case': e.caseId, onclick: () => this.onOpenCase(e.caseId) }, e.caseId)),
      el('td', {}, e.status), el('td', {}, e.caseType), el('td', {}, e.clientId), el('td', { class: 'hide-narrow' }, e.clientType),
      el('td', { class: 'hide-narrow' }, e.source ?? ''), el('td', { class: 'hide-narrow' }, e.businessKey ?? ''),
      el('td', {}, when(e.creationDate)), el('td', { class: 'hide-narrow' }, when(e.updateDate))));
    const table = el('table', { id: 'results-table' },
      el('caption', { class: 'hint' }, `${r.totalElements} matching entries`),
      el('thead', {}, el('tr', {}, ...['Case', 'Status', 'Type', 'Client', 'Client type', 'Source', 'Business key', 'Created', 'Updated']
        .map((h, i) => el('th', { scope: 'col', class: i >= 4 && i !== 7 ? 'hide-narrow' : undefined }, h))),
        el('tr', { class: 'hint-row' }, el('td', { colspan: 9, class: 'hint' }, 'Dates in UTC. Open a case for its history.'))),
      el('tbody', {}, ...rows));
    const pager = el('div', { class: 'pager' },
      el('span', { id: 'total' }, `${r.totalElements} entries`),
      el('span', { id: 'page-of' }, r.totalPages ? `page ${r.page + 1} of ${r.totalPages}` : 'no page'),
      el('button', { type: 'button', id: 'first-page', class: 'secondary', disabled: r.page === 0, onclick: () => this.run(0) }, 'First'),
      el('button', { type: 'button', id: 'prev-page', class: 'secondary', disabled: r.page === 0, onclick: () => this.run(r.page - 1) }, 'Previous'),
      el('button', { type: 'button', id: 'next-page', class: 'secondary', disabled: !r.nextPageToken,
        onclick: () => this.run(0, r.nextPageToken) }, 'Next'));
    box.replaceChildren(el('div', { class: 'table-wrap' }, table), pager);
  }

  async #loadFacets() {
    const box = document.getElementById('facets');
    const filter = this.filter();
    try {
      const all = await Promise.all(FACET_FIELDS.map(([field]) => this.api.facets(field, filter)));
      box.replaceChildren(el('h2', {}, 'Counts'), ...all.flatMap((f, i) => [
        el('h3', {}, FACET_FIELDS[i][1]),
        el('ul', { 'data-facet': f.field }, ...Object.entries(f.counts).map(([value, n]) => el('li', {},
          el('button', { type: 'button', 'data-value': value, title: `narrow to ${FACET_FIELDS[i][1]} ${value}`,
            onclick: () => { this.add(f.field, value); this.run(0); } }, el('span', {}, value), el('span', { class: 'count' }, n))))),
      ]));
    } catch (e) {
      this.onError(e);
    }
  }
}
