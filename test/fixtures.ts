/** Small builders the end-to-end tests share: a patient, a charge with PR, a remittance line, a posted batch. */
import { CreateChargeDocument, CreatePatientDocument, PostingPostDocument, PostingPreviewDocument, RecordRemittanceDocument } from './__generated__/graphql';
import type { Caller, TestServer } from './harness';

let counter = 0;

export async function newPatient(server: TestServer, caller: Caller, firstName = 'Pat', lastName = `Tester${++counter}`): Promise<string> {
  const data = await server.ok(caller, CreatePatientDocument, { input: { firstName, lastName } });
  if (!data.createPatient.patient) throw new Error(JSON.stringify(data.createPatient.userErrors));
  return data.createPatient.patient.id;
}

/** A charge with STAFF lines; returns the charge id and the line ids in order. */
export async function newCharge(server: TestServer, caller: Caller, patientId: string, lines: number[], billedCents = 100_000, serviceDate = '2026-10-01') {
  const data = await server.ok(caller, CreateChargeDocument, {
    input: { patientId, serviceDate, procedureCode: '99213', billedCents, responsibilities: lines.map((amountCents) => ({ kind: 'CUSTOM' as const, amountCents })) },
  });
  if (!data.createCharge.charge) throw new Error(JSON.stringify(data.createCharge.userErrors));
  return { chargeId: data.createCharge.charge.id, lineIds: data.createCharge.charge.responsibilities.map((r) => r.id) };
}

/** A charge whose PR comes from a remittance (one PR adjustment per amount, coinsurance). */
export async function remittanceLine(server: TestServer, caller: Caller, patientId: string, amountCents: number) {
  const { chargeId } = await newCharge(server, caller, patientId, [], Math.max(amountCents * 2, 1000));
  const data = await server.ok(caller, RecordRemittanceDocument, {
    input: { chargeId, remittanceId: `ERA-${++counter}`, adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents }] },
  });
  if (!data.recordRemittance.charge) throw new Error(JSON.stringify(data.recordRemittance.userErrors));
  return { chargeId, lineId: data.recordRemittance.charge.responsibilities[0].id };
}

/** Previews a posting batch, expecting it valid, and posts it with the preview's token, expecting it POSTED. */
export async function previewAndPost(server: TestServer, caller: Caller, batchId: string) {
  const preview = (await server.ok(caller, PostingPreviewDocument, { id: batchId })).postingBatch!.preview;
  expect(preview.userErrors).toEqual([]);
  expect(preview.valid).toBe(true);
  const posted = (await server.ok(caller, PostingPostDocument, { input: { batchId, previewToken: preview.token } })).postPostingBatch;
  expect(posted.userErrors).toEqual([]);
  expect(posted.batch!.status).toBe('POSTED');
  return { preview, posted };
}
