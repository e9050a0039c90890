// The front-desk page (README: the front-desk page): every query, mutation and subscription goes through graphql-ws's client
// (window.graphqlWs, its browser build), on one WebSocket. Money is shown and typed in dollars and sent in cents.
// The data-testid hooks are a contract with browser tests (issue 13): keep them.

const { createClient } = window.graphqlWs;
const main = document.getElementById('main');
const connection = document.getElementById('connection');
const TOKEN_KEY = 'pr-ledger.token';

// ---------------------------------------------------------------- money

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
/** 123456 → "$1,234.56". */
export function formatCents(cents) {
  return dollars.format(cents / 100);
}
/** "1,234.5" or "$12" → cents (123450, 1200); null when it is not an amount of dollars with at most two decimals. */
export function parseDollars(text) {
  const plain = String(text).trim().replace(/^\$/, '').replace(/,/g, '');
  const match = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(plain) ?? /^()\.(\d{1,2})$/.exec(plain);
  if (!match) return null;
  return Number(match[1] || '0') * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

// ---------------------------------------------------------------- DOM

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'testid') element.dataset.testid = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

/** Replaces what <main> shows (arrays flattened, null and false left out). */
function show(...children) {
  main.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

/** A button that is disabled, with the server's tooltip as its title, when its `can*` availability says no. */
function actionButton(label, testid, availability, onclick, extra = {}) {
  return h('button', { type: 'button', testid, disabled: !availability.allowed, title: availability.allowed ? null : availability.message ?? availability.code, onclick, ...extra }, label);
}

// ---------------------------------------------------------------- token and client

function takeToken() {
  const params = new URLSearchParams(location.search);
  const given = params.get('token');
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    params.delete('token');
    const query = params.toString();
    history.replaceState(null, '', location.pathname + (query ? `?${query}` : '') + location.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

let client = null;
/**
 * Runs on every reconnection: the screen re-reads what it shows. Not on the first connection: each screen's own first
 * load (whose request opens it) reads the screen then.
 */
let onConnected = () => {};

function connect(token) {
  let connectedBefore = false;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  client = createClient({
    url,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    shouldRetry: (event) => !(event && event.code === 4403),
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1_000 * 2 ** retries, 15_000) * (0.5 + Math.random() / 2))),
    on: {
      connected: () => {
        connection.textContent = 'live';
        if (connectedBefore) onConnected();
        connectedBefore = true;
      },
      closed: (event) => {
        if (event && event.code === 4403) {
          sessionStorage.removeItem(TOKEN_KEY);
          connection.textContent = 'signed out';
          showSignIn('That token was refused (missing, forged or expired).');
        } else connection.textContent = 'reconnecting…';
      },
    },
  });
}

/** One query or mutation: its data, or an Error with the GraphQL errors' messages. */
function request(query, variables = {}) {
  return new Promise((resolve, reject) => {
    let result = null;
    client.subscribe(
      { query, variables },
      {
        next: (value) => (result = value),
        error: (error) => reject(error instanceof Error ? error : new Error(Array.isArray(error) ? error.map((e) => e.message).join('; ') : String(error?.reason ?? error))),
        complete: () => {
          if (result?.errors?.length) reject(new Error(result.errors.map((e) => e.message).join('; ')));
          else resolve(result?.data);
        },
      },
    );
  });
}

/** A subscription; returns its stop function. */
function watch(query, variables, next) {
  return client.subscribe({ query, variables }, { next: ({ data }) => data && next(data), error: (error) => console.error(error), complete: () => {} });
}

// ---------------------------------------------------------------- operations

const BALANCE = 'id patientId outstandingCents creditCents writtenOffCents version';
const AVAILABILITY = 'allowed code message';
const PATIENTS = `query FrontDeskPatients { patients(first: 100) { edges { node { id firstName lastName mrn balance { ${BALANCE} } } } } }`;
const PRACTICE_LIVE = `subscription FrontDeskPracticeLive { practiceBalanceChanged { ${BALANCE} } }`;
const PATIENT = `query FrontDeskPatient($id: ID!) {
  writeOffReasons { code label requiresCustomReason }
  patient(id: $id) {
    id firstName lastName mrn
    balance { ${BALANCE} }
    charges(first: 50) { edges { node {
      id serviceDate procedureCode description billedCents
      responsibilities {
        id kind origin status amountCents paidCents writtenOffCents openCents
        canWriteOff { ${AVAILABILITY} } canCancel { ${AVAILABILITY} }
        writeOffs { id reason customReason note amountCents activeCents canRemove { ${AVAILABILITY} } }
      }
      timeline(first: 100) { id kind occurredAt actorId amountCents reason note }
    } } }
  }
}`;
const PATIENT_LIVE = `subscription FrontDeskPatientLive($id: ID!) { patientBalanceChanged(patientId: $id) { ${BALANCE} } }`;
const WRITE_OFF = `mutation FrontDeskWriteOff($input: WriteOffInput!) { writeOff(input: $input) { balance { ${BALANCE} } userErrors { code message } } }`;
const REMOVE_WRITE_OFF = `mutation FrontDeskRemoveWriteOff($input: RemoveWriteOffInput!) { removeWriteOff(input: $input) { balance { ${BALANCE} } userErrors { code message } } }`;
const CANCEL_PR = `mutation FrontDeskCancelPR($input: CancelPRInput!) { cancelPR(input: $input) { balance { ${BALANCE} } userErrors { code message } } }`;

// ---------------------------------------------------------------- balances: only ever newer versions on screen

const shownVersions = new Map();
/** Whether this balance is newer than the one on screen (and notes it). */
function newer(balance) {
  if (balance.version <= (shownVersions.get(balance.patientId) ?? -1)) return false;
  shownVersions.set(balance.patientId, balance.version);
  return true;
}

// ---------------------------------------------------------------- screens

let stopScreen = () => {};

function showSignIn(message) {
  stopScreen();
  document.getElementById('sign-out').hidden = true;
  const input = h('input', { name: 'token', testid: 'token', required: true, autocomplete: 'off', placeholder: 'a JWT from your identity provider, or npm run token' });
  main.replaceChildren(
    h('h1', {}, 'Sign in'),
    h(
      'form',
      {
        class: 'panel',
        testid: 'sign-in',
        onsubmit: (event) => {
          event.preventDefault();
          sessionStorage.setItem(TOKEN_KEY, input.value.trim());
          location.reload();
        },
      },
      message ? h('p', { class: 'error' }, message) : null,
      h('label', {}, 'Token', input),
      h('button', { type: 'submit', testid: 'sign-in-submit' }, 'Sign in'),
    ),
  );
  fetch('/dashboard/config.json')
    .then((response) => response.json())
    .then(({ devToken }) => {
      if (devToken && !input.value) {
        input.value = devToken;
        input.after(h('span', { class: 'muted' }, 'Prefilled with the development token (demo practice, BILLING_MANAGER).'));
      }
    })
    .catch(() => {});
}

async function showPatients() {
  const rows = new Map();
  const render = (balance) => {
    const row = rows.get(balance.patientId);
    if (row && newer(balance)) row.querySelector('[data-testid="outstanding"]').textContent = formatCents(balance.outstandingCents);
  };
  const load = async () => {
    const data = await request(PATIENTS);
    for (const { node } of data.patients.edges) {
      if (!rows.has(node.id)) {
        rows.set(
          node.id,
          h(
            'tr',
            { testid: 'patient-row', 'data-patient-id': node.id },
            h('td', {}, h('a', { href: `/patients/${encodeURIComponent(node.id)}` }, `${node.lastName}, ${node.firstName}`)),
            h('td', {}, node.mrn ?? ''),
            h('td', { class: 'money', testid: 'outstanding' }, formatCents(node.balance.outstandingCents)),
          ),
        );
        shownVersions.set(node.id, node.balance.version);
      } else render(node.balance);
    }
    main.replaceChildren(
      h('h1', {}, 'Patients'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Patient'), h('th', {}, 'MRN'), h('th', { class: 'money' }, 'Outstanding'))), h('tbody', {}, [...rows.values()])),
    );
  };
  onConnected = () => void load().catch(showError);
  const stop = watch(PRACTICE_LIVE, {}, (data) => render(data.practiceBalanceChanged));
  stopScreen = stop;
  await load();
}

function showError(error) {
  main.prepend(h('p', { class: 'error', testid: 'error' }, String(error?.message ?? error)));
}

async function showPatient(patientId) {
  let reasons = [];
  let latest = null;
  let loading = null;
  let again = false;
  /** Which form is open, so a re-render after a live update keeps it. */
  let open = null;
  const formError = h('p', { class: 'error', testid: 'form-error' });

  const renderBalance = (balance) => {
    if (!newer(balance)) return;
    latest = balance;
    const outstanding = main.querySelector('[data-testid="patient-summary"] [data-testid="outstanding"]');
    if (outstanding) outstanding.textContent = formatCents(balance.outstandingCents);
    const writtenOff = main.querySelector('[data-testid="written-off"]');
    if (writtenOff) writtenOff.textContent = formatCents(balance.writtenOffCents);
  };

  const send = async (mutation, field, input) => {
    formError.textContent = '';
    try {
      const data = await request(mutation, { input: { ...input, idempotencyKey: crypto.randomUUID() } });
      const payload = data[field];
      if (payload.userErrors.length) {
        formError.textContent = payload.userErrors.map((e) => e.message).join(' ');
        return;
      }
      open = null;
      renderBalance(payload.balance);
      await reload();
    } catch (error) {
      formError.textContent = String(error?.message ?? error);
    }
  };

  const writeOffForm = (line) => {
    const amount = h('input', { testid: 'write-off-amount', inputmode: 'decimal', value: (line.openCents / 100).toFixed(2), 'aria-label': 'Amount in dollars' });
    const custom = h('input', { testid: 'write-off-custom-reason', maxlength: 255 });
    const customLabel = h('label', { hidden: true }, 'Custom reason', custom);
    const reason = h(
      'select',
      { testid: 'write-off-reason', onchange: () => (customLabel.hidden = !reasons.find((r) => r.code === reason.value)?.requiresCustomReason) },
      reasons.map((r) => h('option', { value: r.code }, r.label)),
    );
    const note = h('textarea', { testid: 'write-off-note', maxlength: 1000, rows: 2 });
    return h(
      'form',
      {
        class: 'panel',
        testid: 'write-off-form',
        onsubmit: (event) => {
          event.preventDefault();
          const amountCents = parseDollars(amount.value);
          if (!amountCents) {
            formError.textContent = 'Type an amount in dollars, e.g. 12.50.';
            return;
          }
          const needsCustom = reasons.find((r) => r.code === reason.value)?.requiresCustomReason;
          void send(WRITE_OFF, 'writeOff', {
            responsibilityId: line.id,
            amountCents,
            reason: reason.value,
            ...(needsCustom ? { customReason: custom.value } : {}),
            ...(note.value.trim() ? { note: note.value } : {}),
          });
        },
      },
      h('strong', {}, `Write off (open ${formatCents(line.openCents)})`),
      h('label', {}, 'Amount ($)', amount),
      h('label', {}, 'Reason', reason),
      customLabel,
      h('label', {}, 'Note', note),
      formError,
      h('div', { class: 'actions' }, h('button', { type: 'submit', testid: 'write-off-confirm' }, 'Write off'), h('button', { type: 'button', onclick: () => ((open = null), render()) }, 'Close')),
    );
  };

  const reasonForm = (title, testid, onReason) => {
    const reason = h('input', { testid: `${testid}-reason`, maxlength: 255, required: true });
    return h(
      'form',
      {
        class: 'panel',
        testid: `${testid}-form`,
        onsubmit: (event) => {
          event.preventDefault();
          onReason(reason.value);
        },
      },
      h('strong', {}, title),
      h('label', {}, 'Reason', reason),
      formError,
      h('div', { class: 'actions' }, h('button', { type: 'submit', testid: `${testid}-confirm` }, 'Confirm'), h('button', { type: 'button', onclick: () => ((open = null), render()) }, 'Close')),
    );
  };

  const lineRow = (line) => {
    const active = line.writeOffs.filter((w) => w.activeCents > 0);
    const form =
      open?.lineId !== line.id
        ? null
        : open.kind === 'write-off'
          ? writeOffForm(line)
          : open.kind === 'cancel-pr'
            ? reasonForm('Cancel this PR line', 'cancel-pr', (reason) => void send(CANCEL_PR, 'cancelPR', { responsibilityId: line.id, reason }))
            : reasonForm('Remove this write-off', 'remove-write-off', (reason) => void send(REMOVE_WRITE_OFF, 'removeWriteOff', { writeOffId: open.writeOffId, reason }));
    const openForm = (kind, writeOffId) => () => {
      open = { lineId: line.id, kind, writeOffId };
      formError.textContent = '';
      render();
      main.querySelector('form.panel input, form.panel select')?.focus();
    };
    return h(
      'tr',
      { testid: 'pr-line', 'data-line-id': line.id, 'data-status': line.status },
      h('td', {}, `${line.kind} · ${line.origin}`, line.status === 'ACTIVE' ? null : h('div', { class: 'muted' }, line.status)),
      h('td', { class: 'money' }, formatCents(line.amountCents)),
      h('td', { class: 'money' }, formatCents(line.paidCents)),
      h('td', { class: 'money' }, formatCents(line.writtenOffCents)),
      h('td', { class: 'money', testid: 'line-open' }, formatCents(line.openCents)),
      h(
        'td',
        {},
        h('div', { class: 'actions' }, actionButton('Write Off', 'write-off', line.canWriteOff, openForm('write-off')), actionButton('Cancel PR', 'cancel-pr', line.canCancel, openForm('cancel-pr'))),
        active.map((w) =>
          h(
            'div',
            { class: 'write-off' },
            `${formatCents(w.activeCents)} written off · ${w.customReason ?? reasons.find((r) => r.code === w.reason)?.label ?? w.reason}${w.note ? ` · ${w.note}` : ''} `,
            actionButton('Remove Write Off', 'remove-write-off', w.canRemove, openForm('remove-write-off', w.id), { 'data-write-off-id': w.id }),
          ),
        ),
        form,
      ),
    );
  };

  let patient = null;
  const render = () => {
    if (!patient) return;
    const charges = patient.charges.edges.map((edge) => edge.node);
    const timeline = charges.flatMap((c) => c.timeline).sort((a, b) => (a.occurredAt < b.occurredAt ? 1 : a.occurredAt > b.occurredAt ? -1 : 0));
    const balance = latest ?? patient.balance;
    // A live update re-renders the screen: what is typed into an open form, and the focus, survive it.
    const drafts = new Map([...main.querySelectorAll('form.panel [data-testid]')].filter((field) => 'value' in field).map((field) => [field.dataset.testid, field.value]));
    const focused = document.activeElement?.dataset?.testid;
    show(
      h('p', {}, h('a', { href: '/' }, '← Patients')),
      h('h1', { testid: 'patient-name' }, `${patient.lastName}, ${patient.firstName}`),
      h(
        'div',
        { class: 'summary', testid: 'patient-summary' },
        h('div', {}, h('div', { class: 'muted' }, 'Outstanding'), h('div', { class: 'big', testid: 'outstanding' }, formatCents(balance.outstandingCents))),
        h('div', {}, h('div', { class: 'muted' }, 'Written off'), h('div', { class: 'big', testid: 'written-off' }, formatCents(balance.writtenOffCents))),
        h('div', {}, h('div', { class: 'muted' }, 'Credit'), h('div', { class: 'big' }, formatCents(balance.creditCents))),
      ),
      h('h2', {}, 'Charges'),
      charges.length ? null : h('p', { class: 'muted' }, 'No charges yet.'),
      charges.map((charge) =>
        h(
          'section',
          { class: 'charge', testid: 'charge', 'data-charge-id': charge.id },
          h('h2', {}, `${charge.serviceDate} · ${charge.procedureCode}${charge.description ? ` · ${charge.description}` : ''} · billed ${formatCents(charge.billedCents)}`),
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, h('th', {}, 'PR line'), h('th', { class: 'money' }, 'Amount'), h('th', { class: 'money' }, 'Paid'), h('th', { class: 'money' }, 'Written off'), h('th', { class: 'money' }, 'Open'), h('th', {}, ''))),
            h('tbody', {}, charge.responsibilities.map(lineRow)),
          ),
        ),
      ),
      h('h2', {}, 'Timeline'),
      h(
        'ol',
        { class: 'timeline', testid: 'timeline' },
        timeline.map((entry) =>
          h(
            'li',
            { testid: 'timeline-entry' },
            `${entry.occurredAt.replace('T', ' ').slice(0, 19)} · ${entry.kind}${entry.amountCents !== null && entry.amountCents !== undefined ? ` · ${formatCents(entry.amountCents)}` : ''}${entry.reason ? ` · ${entry.reason}` : ''}${entry.note ? ` · ${entry.note}` : ''} · ${entry.actorId}`,
          ),
        ),
      ),
    );
    for (const [testid, value] of drafts) {
      const field = main.querySelector(`form.panel [data-testid="${testid}"]`);
      if (field) field.value = value;
    }
    main.querySelector('[data-testid="write-off-reason"]')?.dispatchEvent(new Event('change'));
    if (focused) main.querySelector(`[data-testid="${focused}"]`)?.focus();
  };

  /** Re-reads the patient (lines, buttons, timeline); one read at a time, one more if asked for meanwhile. */
  const reload = async () => {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        const data = await request(PATIENT, { id: patientId });
        reasons = data.writeOffReasons;
        if (!data.patient) {
          main.replaceChildren(h('p', { class: 'error', testid: 'not-found' }, 'No such patient in your practice.'), h('a', { href: '/' }, '← Patients'));
          return;
        }
        patient = data.patient;
        if (newer(patient.balance)) latest = patient.balance;
        // A change the subscription showed that this read missed (it began before the change committed): read again.
        else if (latest && latest.version > patient.balance.version) again = true;
        render();
      } while (again);
    })().finally(() => (loading = null));
    return loading;
  };

  onConnected = () => void reload().catch(showError);
  stopScreen = watch(PATIENT_LIVE, { id: patientId }, (data) => {
    const balance = data.patientBalanceChanged;
    const changed = (latest?.version ?? -1) < balance.version;
    renderBalance(balance);
    // Before the first read has answered, the read itself checks it is not older than this balance (above): the
    // subscription's first event, the balance as it is now, does not ask for a second read.
    if (changed && (patient || !loading)) void reload().catch(showError);
  });
  await reload();
}

// ---------------------------------------------------------------- start

async function start() {
  const token = takeToken();
  if (!token) {
    connection.textContent = 'signed out';
    showSignIn();
    return;
  }
  const signOut = document.getElementById('sign-out');
  signOut.hidden = false;
  signOut.addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.href = '/';
  });
  connect(token);
  const match = /^\/patients\/([^/]+)\/?$/.exec(location.pathname);
  try {
    if (match) await showPatient(decodeURIComponent(match[1]));
    else await showPatients();
    document.body.dataset.ready = 'true';
  } catch (error) {
    showError(error);
  }
}

void start();
