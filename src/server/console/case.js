// The case view: the current status, the history as a timeline, and for
// writers an update form and removal behind a confirmation.
import { el } from './search.js';

const FIELDS = ['caseId', 'businessKey', 'caseType', 'clientId', 'clientType', 'status', 'statusDescription', 'source', 'creationDate', 'updateDate'];

export class CaseView {
  constructor(api, { onClose, onError, onDone }) {
    this.api = api;
    this.onError = onError;
    this.onDone = onDone;
    this.caseId = null;
    document.getElementById('case-close').addEventListener('click', onClose);
    document.getElementById('update-form').addEventListener('submit', (e) => { e.preventDefault(); this.#update(); });
    document.getElementById('remove-button').addEventListener('click', () => this.#confirmRemove());
    document.getElementById('confirm-no').addEventListener('click', () => document.getElementById('confirm-dialog').close());
    document.getElementById('confirm-yes').addEventListener('click', () => this.#remove());
  }

  async open(caseId) {
    this.caseId = caseId;
    try {
      const [current, history] = await Promise.all([this.api.get(caseId), this.api.history(caseId)]);
      document.getElementById('case-title').textContent = `Case ${caseId}`;
      document.getElementById('case-current').replaceChildren(el('h3', {}, 'Current status'),
        el('dl', { class: 'entry', id: 'current-entry' }, ...FIELDS.flatMap((f) => [el('dt', {}, f), el('dd', { 'data-field': f }, current[f] ?? '—')])));
      document.getElementById('case-history').replaceChildren(...history.map((e) => el('li', {},
        el('strong', {}, e.status), ' ', el('span', { class: 'when' }, `created ${e.creationDate}, updated ${e.updateDate}`),
        e.statusDescription ? el('div', {}, e.statusDescription) : '')));
      return true;
    } catch (e) {
      this.onError(e);
      return false;
    }
  }

  async #update() {
    const patch = {};
    for (const f of ['status', 'statusDescription', 'source']) {
      const v = document.getElementById(`update-${f}`).value.trim();
      if (v) patch[f] = v;
    }
    try {
      await this.api.update(this.caseId, patch);
      document.getElementById('update-form').reset();
      this.onDone(`Updated case ${this.caseId}`);
      await this.open(this.caseId);
    } catch (e) {
      this.onError(e);
    }
  }

  #confirmRemove() {
    document.getElementById('confirm-text').textContent = `Remove case ${this.caseId} and its whole history? This cannot be undone.`;
    document.getElementById('confirm-dialog').showModal();
    document.getElementById('confirm-no').focus();
  }

  async #remove() {
    document.getElementById('confirm-dialog').close();
    try {
      const r = await this.api.remove(this.caseId);
      this.onDone(`Removed case ${this.caseId} (${r.removed} entries)`, true);
    } catch (e) {
      this.onError(e);
    }
  }
}
