/**
 * Matching and proposing (docs/design.md §9.1), on small 835 files built here and charges given by hand: the expected
 * entries (adjustments, remittance ids, replacements) and issues are written out in each test.
 */
import { parse835 } from './era835';
import { ENTRIES_PER_IMPORTED_BATCH, MatchableCharge, MatchableRemittance, ProposedBatch, matchKeys, paymentKey, proposeBatches, repeatedPayment } from './era-import';
import { ClaimSpec, PaymentSpec, era835 } from '../../test/support/era-file';

let ids = 0;
function charge(fields: Partial<MatchableCharge> & { claimNumber?: string | null }, remittances: MatchableRemittance[] = []): MatchableCharge {
  ids += 1;
  return {
    id: `charge-${ids}`,
    patientId: `patient-${ids}`,
    claimNumber: null,
    lineControlNumber: null,
    procedureCode: '99213',
    serviceDate: '2026-01-05',
    ...fields,
    remittances,
  };
}

function propose(payments: PaymentSpec[], charges: MatchableCharge[]): ProposedBatch[] {
  return proposeBatches(parse835(era835(payments)), charges);
}

const pay = (claims: ClaimSpec[], extra: Partial<PaymentSpec> = {}): PaymentSpec => ({ trace: 'EFT100', date: '2026-01-15', claims, ...extra });
const line = (extra: Partial<NonNullable<ClaimSpec['lines']>[number]> = {}) => ({ code: '99213', chargeCents: 20_000, date: '2026-01-05', ...extra });
const codes = (batch: ProposedBatch) => batch.issues.map((i) => i.code);
const prOf = (batch: ProposedBatch) =>
  batch.entries.map((e) => ('remittance' in e ? e.remittance.adjustments.filter((a) => a.groupCode === 'PR').reduce((s, a) => s + a.amountCents, 0) : 'reversal'));

describe('one payment, one batch', () => {
  test('the batch carries TRN02, the payer, BPR16 and BPR02; a matched line is a remittance entry with every triplet', () => {
    const c = charge({ claimNumber: 'PCN1' });
    const [batch, ...more] = propose(
      [
        pay(
          [
            {
              claimNumber: 'PCN1',
              payerClaimNumber: 'ICN9',
              lines: [line({ adjustments: [{ group: 'PR', reason: '1', cents: 5_000 }, { group: 'PR', reason: '2', cents: 1_500 }, { group: 'CO', reason: '45', cents: 3_000 }] })],
            },
          ],
          { payerName: 'ACME HEALTH', payerId: '1999999999' },
        ),
      ],
      [c],
    );
    expect(more).toEqual([]);
    expect(batch).toMatchObject({ reference: 'EFT100', payerName: 'ACME HEALTH', depositDate: '2026-01-15', expectedTotalCents: 10_500, part: 1, parts: 1, issues: [] });
    expect(batch.entries).toEqual([
      {
        remittance: {
          chargeId: c.id,
          remittanceId: 'ICN9:1:1',
          adjustments: [
            { groupCode: 'PR', reasonCode: '1', amountCents: 5_000 },
            { groupCode: 'PR', reasonCode: '2', amountCents: 1_500 },
            { groupCode: 'CO', reasonCode: '45', amountCents: 3_000 },
          ],
        },
      },
    ]);
    // PR for the claim: $65.00 (deductible $50 + coinsurance $15).
    expect(prOf(batch)).toEqual([6_500]);
  });

  test('ordinals count every claim of the payment and every line of the claim; REF*6R wins over the claim number', () => {
    const a = charge({ claimNumber: 'PCN1', procedureCode: '99213' });
    const b = charge({ claimNumber: 'OTHER', lineControlNumber: 'LINE-2', procedureCode: '81002' });
    const [batch] = propose(
      [
        pay([
          { claimNumber: 'NOPE', payerClaimNumber: 'ICN1', lines: [line()] },
          {
            claimNumber: 'PCN1',
            payerClaimNumber: 'ICN2',
            lines: [line({ adjustments: [{ group: 'PR', reason: '3', cents: 2_500 }] }), line({ code: '81002', chargeCents: 1_000, control: 'LINE-2', adjustments: [{ group: 'PR', reason: '2', cents: 200 }] })],
          },
        ]),
      ],
      [a, b],
    );
    expect(batch.entries.map((e) => 'remittance' in e && [e.remittance.chargeId, e.remittance.remittanceId])).toEqual([
      [a.id, 'ICN2:2:1'],
      [b.id, 'ICN2:2:2'],
    ]);
    expect(prOf(batch)).toEqual([2_500, 200]);
    expect(batch.issues).toEqual([expect.objectContaining({ code: 'CLAIM_NOT_FOUND', claimNumber: 'NOPE', payerClaimNumber: 'ICN1' })]);
  });

  test('the procedure code the practice submitted (SVC06) is matched when the payer changed it, and the statement date stands in for a missing DTM*472', () => {
    const c = charge({ claimNumber: 'PCN1', procedureCode: '99214', serviceDate: '2026-01-07' });
    const [batch] = propose(
      [pay([{ claimNumber: 'PCN1', statementDate: '2026-01-07', lines: [line({ code: '99213', submittedCode: '99214', date: undefined, adjustments: [{ group: 'PR', reason: '2', cents: 700 }] })] }])],
      [c, charge({ claimNumber: 'PCN1', procedureCode: '99213', serviceDate: '2026-01-07' })],
    );
    expect(batch.issues).toEqual([]);
    expect(batch.entries).toEqual([{ remittance: expect.objectContaining({ chargeId: c.id }) }]);
  });

  test('a claim without service lines matches the one charge with its claim number', () => {
    const c = charge({ claimNumber: 'PCN1' });
    const [batch] = propose([pay([{ claimNumber: 'PCN1', payerClaimNumber: 'ICN5', chargeCents: 10_000, claimAdjustments: [{ group: 'PR', reason: '3', cents: 2_000 }] }])], [c]);
    expect(batch.entries).toEqual([{ remittance: { chargeId: c.id, remittanceId: 'ICN5:1:1', adjustments: [{ groupCode: 'PR', reasonCode: '3', amountCents: 2_000 }] } }]);

    const [two] = propose([pay([{ claimNumber: 'PCN1', chargeCents: 10_000 }])], [c, charge({ claimNumber: 'PCN1' })]);
    expect(codes(two)).toEqual(['AMBIGUOUS_MATCH']);
  });

  test('claim-level PR goes to the only service line; with several lines it is CLAIM_LEVEL_PR and the claim waits', () => {
    const c = charge({ claimNumber: 'PCN1' });
    const [one] = propose(
      [pay([{ claimNumber: 'PCN1', claimAdjustments: [{ group: 'PR', reason: '1', cents: 1_000 }], lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 300 }] })] }])],
      [c],
    );
    expect(one.entries).toEqual([
      {
        remittance: expect.objectContaining({
          adjustments: [
            { groupCode: 'PR', reasonCode: '2', amountCents: 300 },
            { groupCode: 'PR', reasonCode: '1', amountCents: 1_000 },
          ],
        }),
      },
    ]);
    expect(prOf(one)).toEqual([1_300]);

    const [several] = propose(
      [pay([{ claimNumber: 'PCN1', claimAdjustments: [{ group: 'PR', reason: '1', cents: 1_000 }], lines: [line(), line({ code: '81002', chargeCents: 1_000 })] }])],
      [c, charge({ claimNumber: 'PCN1', procedureCode: '81002' })],
    );
    expect(several.entries).toEqual([]);
    expect(several.issues).toEqual([expect.objectContaining({ code: 'CLAIM_LEVEL_PR', claimNumber: 'PCN1', segment: expect.any(Number) })]);
    expect(several.issues[0].message).toMatch(/\$10\.00 of PR at claim level and 2 service lines/);
  });
});

describe('what is not proposed', () => {
  test('a claim is proposed whole or not at all: one unmatched line keeps the claim out', () => {
    const c = charge({ claimNumber: 'PCN1' });
    const [batch] = propose([pay([{ claimNumber: 'PCN1', lines: [line(), line({ code: '99999' })] }])], [c]);
    expect(batch.entries).toEqual([]);
    expect(codes(batch)).toEqual(['CLAIM_NOT_FOUND']);
    expect(batch.issues[0].message).toMatch(/service line 2 \(99999 on 2026-01-05\)/);
  });

  test('two charges that fit, or two lines on one charge, are AMBIGUOUS_MATCH', () => {
    const [two] = propose([pay([{ claimNumber: 'PCN1', lines: [line()] }])], [charge({ claimNumber: 'PCN1' }), charge({ claimNumber: 'PCN1' })]);
    expect(codes(two)).toEqual(['AMBIGUOUS_MATCH']);
    const [same] = propose([pay([{ claimNumber: 'PCN1', lines: [line(), line()] }])], [charge({ claimNumber: 'PCN1' })]);
    expect(codes(same)).toEqual(['AMBIGUOUS_MATCH']);
    expect(same.issues[0].message).toMatch(/service lines 1 and 2 both match the same charge/);
  });

  test('DENIED, UNBALANCED (CLP05, a line, a claim) and the segment of each', () => {
    const c = charge({ claimNumber: 'PCN1' });
    const text = era835([
      pay([
        { claimNumber: 'PCN1', status: '4', lines: [line({ adjustments: [{ group: 'CO', reason: '50', cents: 20_000 }] })] },
        { claimNumber: 'PCN1', prCents: 999, lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 500 }] })] },
        { claimNumber: 'PCN1', lines: [line({ paidCents: 1, adjustments: [{ group: 'PR', reason: '2', cents: 500 }] })] },
        { claimNumber: 'PCN1', paidCents: 3, lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 500 }] })] },
      ]),
    ]);
    const era = parse835(text);
    const [batch] = proposeBatches(era, [c]);
    const claims = era.payments[0].claims;
    expect(batch.entries).toEqual([]);
    expect(batch.issues.map((i) => [i.code, i.segment])).toEqual([
      ['DENIED', claims[0].segment],
      ['UNBALANCED', claims[1].segment],
      ['UNBALANCED', claims[2].serviceLines[0].segment],
      ['UNBALANCED', claims[3].segment],
    ]);
    expect(batch.issues[1].message).toMatch(/PR adjustments add up to \$5\.00, not the \$9\.99 of patient responsibility/);
    expect(batch.issues[2].message).toMatch(/service line 1 charges \$200\.00 less \$5\.00 of adjustments, which is not the \$0\.01 paid/);
  });

  test('a payment that does not balance gets UNBALANCED_PAYMENT (no claim number); its balanced claims are still proposed', () => {
    const c = charge({ claimNumber: 'PCN1' });
    const [batch] = propose([pay([{ claimNumber: 'PCN1', lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 500 }] })] }], { amountCents: 1 })], [c]);
    expect(batch.issues).toEqual([expect.objectContaining({ code: 'UNBALANCED_PAYMENT', claimNumber: null, payerClaimNumber: null, segment: 4 })]); // ISA, GS, ST, BPR
    expect(batch.issues[0].message).toMatch(/pay \$195\.00, less \$0\.00 of provider adjustments \(PLB\), which is not the \$0\.01 of the payment/);
    expect(prOf(batch)).toEqual([500]);
    expect(batch.expectedTotalCents).toBe(1);
  });

  test('a provider adjustment (PLB) is counted in the payment balance', () => {
    const [batch] = propose([pay([{ claimNumber: 'PCN1', lines: [line()] }], { plb: [{ reason: 'WO', cents: 1_000 }] })], [charge({ claimNumber: 'PCN1' })]);
    expect(batch.issues).toEqual([]);
    expect(batch.expectedTotalCents).toBe(19_000);
  });

  test('a line already recorded on its charge (same remittance id) is DUPLICATE_REMITTANCE, not proposed again', () => {
    const c = charge({ claimNumber: 'PCN1' }, [{ externalId: 'ICN1:1:1', adjustments: [], reversed: false }]);
    const [batch] = propose([pay([{ claimNumber: 'PCN1', payerClaimNumber: 'ICN1', lines: [line()] }])], [c]);
    expect(codes(batch)).toEqual(['DUPLICATE_REMITTANCE']);
  });

  test('claim statuses that are not an adjudication to post (23, 25) are issues', () => {
    const [batch] = propose([pay([{ claimNumber: 'PCN1', status: '25', lines: [line()] }])], [charge({ claimNumber: 'PCN1' })]);
    expect(codes(batch)).toEqual(['UNSUPPORTED_STATUS']);
  });

  test('negative PR outside a reversal is INVALID_ADJUSTMENT; other groups that recordRemittance cannot take are left out', () => {
    const [negative] = propose(
      [pay([{ claimNumber: 'PCN1', lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: -500 }, { group: 'CO', reason: '45', cents: 500 }] })] }])],
      [charge({ claimNumber: 'PCN1' })],
    );
    expect(codes(negative)).toEqual(['INVALID_ADJUSTMENT']);
    const [other] = propose(
      [pay([{ claimNumber: 'PCN1', lines: [line({ adjustments: [{ group: 'OA', reason: '94', cents: -500 }, { group: 'PR', reason: '1', cents: 500 }] })] }])],
      [charge({ claimNumber: 'PCN1' })],
    );
    expect(other.entries).toEqual([{ remittance: expect.objectContaining({ adjustments: [{ groupCode: 'PR', reasonCode: '1', amountCents: 500 }] }) }]);
  });
});

describe('reversals (CLP02 22) and corrections', () => {
  const original: MatchableRemittance = {
    externalId: 'ICN1:1:1',
    adjustments: [
      { groupCode: 'PR', reasonCode: '2', amountCents: 2_000 },
      { groupCode: 'CO', reasonCode: '45', amountCents: 3_000 },
    ],
    reversed: false,
  };
  const reversal: ClaimSpec = {
    claimNumber: 'PCN1',
    status: '22',
    payerClaimNumber: 'ICN1',
    lines: [line({ chargeCents: -20_000, adjustments: [{ group: 'PR', reason: '2', cents: -2_000 }, { group: 'CO', reason: '45', cents: -3_000 }] })],
  };
  const correction: ClaimSpec = {
    claimNumber: 'PCN1',
    payerClaimNumber: 'ICN2',
    lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 1_200 }, { group: 'CO', reason: '45', cents: 3_000 }] })],
  };

  test('a reversal followed by its corrected claim is one remittance entry that replaces the original', () => {
    const c = charge({ claimNumber: 'PCN1' }, [original]);
    const [batch] = propose([pay([reversal, correction])], [c]);
    expect(batch.issues).toEqual([]);
    expect(batch.entries).toEqual([
      {
        remittance: {
          chargeId: c.id,
          remittanceId: 'ICN2:2:1',
          replacesRemittanceId: 'ICN1:1:1',
          adjustments: [
            { groupCode: 'PR', reasonCode: '2', amountCents: 1_200 },
            { groupCode: 'CO', reasonCode: '45', amountCents: 3_000 },
          ],
        },
      },
    ]);
  });

  test('a reversal alone is a reverse-remittance entry naming the original', () => {
    const c = charge({ claimNumber: 'PCN1' }, [original]);
    const [batch] = propose([pay([reversal])], [c]);
    expect(batch.entries).toEqual([{ reverseRemittance: { chargeId: c.id, remittanceId: 'ICN1:1:1', reason: expect.stringMatching(/^Reversed by the payer: payment EFT100 from ACME HEALTH PLAN, claim ICN1$/) } }]);
  });

  test('the original must be negated exactly and not already reversed; otherwise the reversal and its correction both wait', () => {
    const differs = charge({ claimNumber: 'PCN1' }, [{ ...original, adjustments: [{ groupCode: 'PR', reasonCode: '2', amountCents: 2_001 }] }]);
    const [batch] = propose([pay([reversal, correction])], [differs]);
    expect(batch.entries).toEqual([]);
    expect(codes(batch)).toEqual(['REVERSAL_WITHOUT_ORIGINAL', 'REVERSAL_WITHOUT_ORIGINAL']);
    expect(batch.issues[1].message).toMatch(/corrects a reversal \(segment \d+\) that could not be proposed/);

    const reversed = charge({ claimNumber: 'PCN1' }, [{ ...original, reversed: true }]);
    expect(codes(propose([pay([reversal])], [reversed])[0])).toEqual(['REVERSAL_WITHOUT_ORIGINAL']);
  });

  test('two originals alike are told apart by the payer claim number; otherwise AMBIGUOUS_MATCH', () => {
    const c = charge({ claimNumber: 'PCN1' }, [{ ...original, externalId: 'OTHER:1:1' }, original]);
    expect(propose([pay([reversal])], [c])[0].entries).toEqual([{ reverseRemittance: expect.objectContaining({ remittanceId: 'ICN1:1:1' }) }]);
    const alike = charge({ claimNumber: 'PCN1' }, [{ ...original, externalId: 'A:1:1' }, { ...original, externalId: 'B:1:1' }]);
    expect(codes(propose([pay([reversal])], [alike])[0])).toEqual(['AMBIGUOUS_MATCH']);
  });

  test('a correction that cannot be proposed holds its reversal back too', () => {
    const c = charge({ claimNumber: 'PCN1' }, [original]);
    const [batch] = propose([pay([reversal, { ...correction, prCents: 1 }])], [c]);
    expect(batch.entries).toEqual([]);
    expect(codes(batch)).toEqual(['UNBALANCED', 'UNBALANCED']);
  });
});

describe('files and sizes', () => {
  test('one batch per payment, in file order; keys for reading candidate charges', () => {
    const payments = [pay([{ claimNumber: 'A', lines: [line({ control: 'L1' })] }], { trace: 'T1' }), pay([{ claimNumber: 'B', lines: [line()] }], { trace: 'T2', payerName: 'OTHER PAYER' })];
    const era = parse835(era835(payments));
    expect(matchKeys(era)).toEqual({ claimNumbers: ['A', 'B'], lineControlNumbers: ['L1'] });
    const batches = proposeBatches(era, [charge({ claimNumber: 'A' }), charge({ claimNumber: 'B' })]);
    expect(batches.map((b) => [b.reference, b.payerName, b.entries.length])).toEqual([
      ['T1', 'ACME HEALTH PLAN', 1],
      ['T2', 'OTHER PAYER', 1],
    ]);
    expect(paymentKey(era.payments[0])).toEqual({ payerKey: '1512345678', traceNumber: 'T1' });
    expect(repeatedPayment(era)).toBeNull();
    expect(repeatedPayment(parse835(era835([payments[0], payments[0]])))).toEqual({ first: era.payments[0], again: expect.objectContaining({ traceNumber: 'T1' }) });
  });

  test('a payment with more lines than a batch holds is split into parts in claim order; BPR02 only on the first', () => {
    const n = ENTRIES_PER_IMPORTED_BATCH + 10;
    const claims: ClaimSpec[] = Array.from({ length: n }, (_, i) => ({ claimNumber: `C${i}`, lines: [line({ adjustments: [{ group: 'PR', reason: '2', cents: 100 }] })] }));
    const charges = claims.map((c) => charge({ claimNumber: c.claimNumber }));
    const batches = propose([pay(claims)], charges);
    expect(batches.map((b) => [b.reference, b.part, b.parts, b.entries.length, b.expectedTotalCents])).toEqual([
      ['EFT100 (part 1 of 2)', 1, 2, ENTRIES_PER_IMPORTED_BATCH, n * 19_900],
      ['EFT100 (part 2 of 2)', 2, 2, 10, null],
    ]);
  });
});
