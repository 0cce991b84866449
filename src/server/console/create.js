// Creating a status entry (writers only): a dialog with the create fields.
const FIELDS = ['caseId', 'businessKey', 'caseType', 'clientId', 'clientType', 'status', 'statusDescription', 'source'];

export class CreateDialog {
  constructor(api, { onCreated, onError }) {
    this.api = api;
    this.dialog = document.getElementById('create-dialog');
    document.getElementById('new-button').addEventListener('click', () => {
      document.getElementById('create-form').reset();
      this.dialog.showModal();
      document.getElementById('create-caseId').focus();
    });
    document.getElementById('create-cancel').addEventListener('click', () => this.dialog.close());
    document.getElementById('create-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const request = {};
      for (const f of FIELDS) {
        const v = document.getElementById(`create-${f}`).value.trim();
        if (v) request[f] = v;
      }
      try {
        const entry = await this.api.create(request);
        this.dialog.close();
        onCreated(entry);
      } catch (err) {
        onError(err);
      }
    });
  }
}
