import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EraAdjustment, EraClaim, EraPayment, EraServiceLine, InvalidX12, MAX_ERA_BYTES, parse835 } from './era835';

// The files are described in test/era/README.md; amounts below are in cents, worked out by hand from the files.
const read = (name: string): string => readFileSync(join(__dirname, '../../test/era', name), 'utf8');

function cas(groupCode: string, reasonCode: string, amountCents: number, segment: number, quantity: string | null = null): EraAdjustment {
  return { groupCode, reasonCode, amountCents, quantity, segment };
}

type LineFields = Pick<EraServiceLine, 'segment' | 'procedureCode' | 'chargeCents' | 'paidCents' | 'serviceDate' | 'adjustments'>;
function svc(fields: LineFields & Partial<EraServiceLine>): EraServiceLine {
  return { adjudicatedCode: null, lineControlNumber: null, balanced: true, ...fields };
}

type ClaimFields = Pick<EraClaim, 'segment' | 'claimNumber' | 'statusCode' | 'chargeCents' | 'paidCents' | 'patientResponsibilityCents' | 'payerClaimNumber'>;
function clp(fields: ClaimFields & Partial<EraClaim>): EraClaim {
  return { statementDate: null, adjustments: [], serviceLines: [], balanced: true, prBalanced: true, ...fields };
}

type PaymentFields = Pick<EraPayment, 'segment' | 'paymentCents' | 'depositDate' | 'traceNumber' | 'payerName' | 'payerId' | 'claims'>;
function payment(fields: PaymentFields & Partial<EraPayment>): EraPayment {
  return { providerAdjustments: [], balanced: true, ...fields };
}

/** Σ of the PR triplets of a claim, claim and service level. */
function patientResponsibility(claim: EraClaim): number {
  return [...claim.adjustments, ...claim.serviceLines.flatMap((line) => line.adjustments)]
    .filter((adjustment) => adjustment.groupCode === 'PR')
    .reduce((total, adjustment) => total + adjustment.amountCents, 0);
}

function prByClaim(payments: EraPayment[]): [string, number][] {
  return payments.flatMap((p) => p.claims.map((claim): [string, number] => [claim.claimNumber, patientResponsibility(claim)]));
}

const LAKESIDE = { payerName: 'LAKESIDE HEALTH PLAN', payerId: '1841234567' };

describe('parse835 on the test files', () => {
  it('professional-copay-coinsurance.835: copay and coinsurance at service level, SVC06, REF*6R, DTM*472 and DTM*150', () => {
    const era = parse835(read('professional-copay-coinsurance.835'));
    expect(era).toEqual({
      payments: [
        payment({
          segment: 4,
          paymentCents: 24640,
          depositDate: '2026-01-05',
          traceNumber: 'EFT20260105001',
          ...LAKESIDE,
          claims: [
            clp({
              segment: 15,
              claimNumber: 'PCN10045',
              statusCode: '1',
              chargeCents: 35000,
              paidCents: 19040,
              patientResponsibilityCents: 4000,
              payerClaimNumber: '2025121099001',
              statementDate: '2025-12-10',
              serviceLines: [
                svc({
                  segment: 20,
                  procedureCode: '99214',
                  chargeCents: 25000,
                  paidCents: 15040,
                  lineControlNumber: 'LN10045-1',
                  serviceDate: '2025-12-10',
                  adjustments: [cas('PR', '3', 3000, 22), cas('CO', '45', 6960, 23)],
                }),
                svc({
                  segment: 26,
                  procedureCode: '36415',
                  chargeCents: 2500,
                  paidCents: 800,
                  lineControlNumber: 'LN10045-2',
                  serviceDate: '2025-12-10',
                  adjustments: [cas('PR', '2', 200, 28), cas('CO', '45', 1500, 29)],
                }),
                svc({
                  segment: 32,
                  procedureCode: '81002',
                  adjudicatedCode: '81003',
                  chargeCents: 7500,
                  paidCents: 3200,
                  lineControlNumber: 'LN10045-3',
                  serviceDate: '2025-12-10',
                  adjustments: [cas('PR', '2', 800, 34), cas('CO', '45', 3500, 35)],
                }),
              ],
            }),
            clp({
              segment: 38,
              claimNumber: 'PCN10046',
              statusCode: '1',
              chargeCents: 18000,
              paidCents: 5600,
              patientResponsibilityCents: 6400,
              payerClaimNumber: '2025121199002',
              serviceLines: [
                svc({
                  segment: 40,
                  procedureCode: '99213',
                  chargeCents: 18000,
                  paidCents: 5600,
                  lineControlNumber: 'LN10046-1',
                  serviceDate: '2025-12-11', // DTM*150, the start of the period
                  adjustments: [cas('PR', '1', 5000, 43), cas('PR', '2', 1400, 43), cas('CO', '45', 6000, 44)],
                }),
              ],
            }),
          ],
        }),
      ],
    });
    // PCN10045: copay 30.00 + coinsurance 2.00 + 8.00 = 40.00; PCN10046: deductible 50.00 + coinsurance 14.00 = 64.00.
    expect(prByClaim(era.payments)).toEqual([
      ['PCN10045', 4000],
      ['PCN10046', 6400],
    ]);
  });

  it('dental.835: AD codes, several PR triplets in one CAS with a quantity, a line dated only by the claim, TRN without TRN03', () => {
    const era = parse835(read('dental.835'));
    expect(era).toEqual({
      payments: [
        payment({
          segment: 4,
          paymentCents: 31800,
          depositDate: '2026-01-12',
          traceNumber: 'CHK0048213',
          payerName: 'BRIGHTSMILE DENTAL PLAN',
          payerId: 'BSDP01', // from N1*PR, as TRN03 is absent
          claims: [
            clp({
              segment: 13,
              claimNumber: 'DN20931',
              statusCode: '1',
              chargeCents: 156000,
              paidCents: 31800,
              patientResponsibilityCents: 92000,
              payerClaimNumber: 'DP26011200077',
              statementDate: '2025-12-18',
              serviceLines: [
                svc({ segment: 17, procedureCode: 'D0120', chargeCents: 6500, paidCents: 5200, serviceDate: '2025-12-18', adjustments: [cas('CO', '131', 1300, 19)] }),
                svc({ segment: 20, procedureCode: 'D1110', chargeCents: 11000, paidCents: 8800, serviceDate: '2025-12-18', adjustments: [cas('CO', '131', 2200, 22)] }),
                svc({
                  segment: 23,
                  procedureCode: 'D2391',
                  chargeCents: 18500,
                  paidCents: 11840,
                  serviceDate: null,
                  adjustments: [cas('PR', '2', 2960, 24), cas('CO', '131', 3700, 25)],
                }),
                svc({
                  segment: 26,
                  procedureCode: 'D2740',
                  chargeCents: 120000,
                  paidCents: 5960,
                  serviceDate: '2025-12-18',
                  adjustments: [cas('CO', '131', 25000, 28), cas('PR', '2', 47500, 29, '1'), cas('PR', '119', 41540, 29)],
                }),
              ],
            }),
          ],
        }),
      ],
    });
    // 29.60 + 475.00 + 415.40 = 920.00
    expect(prByClaim(era.payments)).toEqual([['DN20931', 92000]]);
  });

  it('secondary-payer.835: CLP02 2, claim-level PR on a one-line claim, a claim without service lines or CLP05', () => {
    const era = parse835(read('secondary-payer.835'));
    expect(era).toEqual({
      payments: [
        payment({
          segment: 4,
          paymentCents: 4200,
          depositDate: '2026-01-15',
          traceNumber: 'HM0099812',
          payerName: 'HARBOR MUTUAL INSURANCE',
          payerId: '1550001234',
          claims: [
            clp({
              segment: 12,
              claimNumber: 'PCN10045',
              statusCode: '2',
              chargeCents: 35000,
              paidCents: 3200,
              patientResponsibilityCents: 800,
              payerClaimNumber: 'HM7781234',
              serviceLines: [
                svc({
                  segment: 14,
                  procedureCode: '99214',
                  chargeCents: 25000,
                  paidCents: 3000,
                  lineControlNumber: 'LN10045-1',
                  serviceDate: '2025-12-10',
                  adjustments: [cas('OA', '23', 15040, 16), cas('CO', '45', 6960, 17)],
                }),
                svc({
                  segment: 19,
                  procedureCode: '36415',
                  chargeCents: 2500,
                  paidCents: 200,
                  lineControlNumber: 'LN10045-2',
                  serviceDate: '2025-12-10',
                  adjustments: [cas('OA', '23', 800, 21), cas('CO', '45', 1500, 22)],
                }),
                svc({
                  segment: 24,
                  procedureCode: '81002',
                  adjudicatedCode: '81003',
                  chargeCents: 7500,
                  paidCents: 0,
                  lineControlNumber: 'LN10045-3',
                  serviceDate: '2025-12-10',
                  adjustments: [cas('OA', '23', 3200, 26), cas('CO', '45', 3500, 27), cas('PR', '2', 800, 28)],
                }),
              ],
            }),
            clp({
              segment: 30,
              claimNumber: 'PCN10046',
              statusCode: '2',
              chargeCents: 18000,
              paidCents: 1000,
              patientResponsibilityCents: 5400,
              payerClaimNumber: 'HM7781235',
              adjustments: [cas('PR', '1', 5000, 31)],
              serviceLines: [
                svc({
                  segment: 33,
                  procedureCode: '99213',
                  chargeCents: 18000,
                  paidCents: 6000,
                  lineControlNumber: 'LN10046-1',
                  serviceDate: '2025-12-11',
                  adjustments: [cas('OA', '23', 5600, 35), cas('CO', '45', 6000, 36), cas('PR', '2', 400, 37)],
                }),
              ],
            }),
            clp({
              segment: 39,
              claimNumber: 'PCN10047',
              statusCode: '2',
              chargeCents: 9500,
              paidCents: 0,
              patientResponsibilityCents: null,
              payerClaimNumber: 'HM7781236',
              statementDate: '2025-12-15',
              adjustments: [cas('OA', '23', 9500, 40)],
            }),
          ],
        }),
      ],
    });
    // PCN10046 balances only with its claim-level CAS: 180.00 − 50.00 − (56.00 + 60.00 + 4.00) = 10.00; PR 50.00 + 4.00.
    expect(prByClaim(era.payments)).toEqual([
      ['PCN10045', 800],
      ['PCN10046', 5400],
      ['PCN10047', 0],
    ]);
  });

  it('denial.835: CLP02 4 with nothing paid, one denial with PR-96, BPR*H for no money', () => {
    const era = parse835(read('denial.835'));
    expect(era).toEqual({
      payments: [
        payment({
          segment: 4,
          paymentCents: 0,
          depositDate: '2026-01-20',
          traceNumber: '0120260120A',
          ...LAKESIDE,
          claims: [
            clp({
              segment: 12,
              claimNumber: 'PCN10050',
              statusCode: '4',
              chargeCents: 42000,
              paidCents: 0,
              patientResponsibilityCents: null,
              payerClaimNumber: '2026012099010',
              statementDate: '2026-01-02',
              serviceLines: [
                svc({
                  segment: 16,
                  procedureCode: '97110',
                  chargeCents: 16000,
                  paidCents: 0,
                  lineControlNumber: 'LN10050-1',
                  serviceDate: '2026-01-02',
                  adjustments: [cas('CO', '197', 16000, 18)],
                }),
                svc({
                  segment: 21,
                  procedureCode: '97140',
                  chargeCents: 26000,
                  paidCents: 0,
                  lineControlNumber: 'LN10050-2',
                  serviceDate: '2026-01-02',
                  adjustments: [cas('CO', '197', 26000, 23)],
                }),
              ],
            }),
            clp({
              segment: 26,
              claimNumber: 'PCN10051',
              statusCode: '4',
              chargeCents: 8500,
              paidCents: 0,
              patientResponsibilityCents: 8500,
              payerClaimNumber: '2026012099011',
              serviceLines: [
                svc({
                  segment: 28,
                  procedureCode: '99401',
                  chargeCents: 8500,
                  paidCents: 0,
                  lineControlNumber: 'LN10051-1',
                  serviceDate: '2026-01-05',
                  adjustments: [cas('PR', '96', 8500, 30)],
                }),
              ],
            }),
          ],
        }),
      ],
    });
    expect(prByClaim(era.payments)).toEqual([
      ['PCN10050', 0],
      ['PCN10051', 8500],
    ]);
  });

  it('reversal-correction.835: CLP02 22 with every amount negated, then the corrected claim, in one payment', () => {
    const era = parse835(read('reversal-correction.835'));
    expect(era).toEqual({
      payments: [
        payment({
          segment: 4,
          paymentCents: 4000,
          depositDate: '2026-01-14',
          traceNumber: 'EFT20260114003',
          ...LAKESIDE,
          claims: [
            clp({
              segment: 12,
              claimNumber: 'PCN10046',
              statusCode: '22',
              chargeCents: -18000,
              paidCents: -5600,
              patientResponsibilityCents: -6400,
              payerClaimNumber: '2025121199002',
              serviceLines: [
                svc({
                  segment: 14,
                  procedureCode: '99213',
                  chargeCents: -18000,
                  paidCents: -5600,
                  lineControlNumber: 'LN10046-1',
                  serviceDate: '2025-12-11',
                  adjustments: [cas('PR', '1', -5000, 17), cas('PR', '2', -1400, 17), cas('CO', '45', -6000, 18)],
                }),
              ],
            }),
            clp({
              segment: 20,
              claimNumber: 'PCN10046',
              statusCode: '1',
              chargeCents: 18000,
              paidCents: 9600,
              patientResponsibilityCents: 2400,
              payerClaimNumber: '2026011499321',
              serviceLines: [
                svc({
                  segment: 22,
                  procedureCode: '99213',
                  chargeCents: 18000,
                  paidCents: 9600,
                  lineControlNumber: 'LN10046-1',
                  serviceDate: '2025-12-11',
                  adjustments: [cas('PR', '2', 2400, 24), cas('CO', '45', 6000, 25)],
                }),
              ],
            }),
          ],
        }),
      ],
    });
    // The reversal negates the original PR of professional-copay-coinsurance.835's PCN10046 exactly (−64.00).
    expect(prByClaim(era.payments)).toEqual([
      ['PCN10046', -6400],
      ['PCN10046', 2400],
    ]);
  });

  it('plb.835: two PLB segments, composite reasons with references, negative and positive amounts, a lone reversal', () => {
    const era = parse835(read('plb.835'));
    expect(era).toEqual({
      payments: [
        payment({
          segment: 4,
          paymentCents: 18245,
          depositDate: '2026-01-30',
          traceNumber: 'EFT20260130007',
          ...LAKESIDE,
          providerAdjustments: [
            { reasonCode: 'L6', referenceId: null, amountCents: -185, segment: 44 },
            { reasonCode: 'WO', referenceId: '2025110299123', amountCents: 2000, segment: 44 },
            { reasonCode: 'CS', referenceId: null, amountCents: 500, segment: 44 },
            { reasonCode: 'FB', referenceId: 'FWD20260116', amountCents: -3000, segment: 45 },
            { reasonCode: 'IR', referenceId: null, amountCents: 1200, segment: 45 },
          ],
          claims: [
            clp({
              segment: 12,
              claimNumber: 'PCN10060',
              statusCode: '1',
              chargeCents: 20000,
              paidCents: 12800,
              patientResponsibilityCents: 3200,
              payerClaimNumber: '2026012899500',
              serviceLines: [
                svc({
                  segment: 14,
                  procedureCode: '99204',
                  chargeCents: 20000,
                  paidCents: 12800,
                  lineControlNumber: 'LN10060-1',
                  serviceDate: '2026-01-22',
                  adjustments: [cas('PR', '2', 3200, 16), cas('CO', '45', 4000, 17)],
                }),
              ],
            }),
            clp({
              segment: 19,
              claimNumber: 'PCN10061',
              statusCode: '1',
              chargeCents: 30000,
              paidCents: 25000,
              patientResponsibilityCents: null,
              payerClaimNumber: '2026012899501',
              serviceLines: [
                svc({
                  segment: 21,
                  procedureCode: '20610',
                  chargeCents: 30000,
                  paidCents: 25000,
                  lineControlNumber: 'LN10061-1',
                  serviceDate: '2026-01-23',
                  adjustments: [cas('CO', '45', 5000, 23)],
                }),
              ],
            }),
            clp({
              segment: 25,
              claimNumber: 'PCN10045',
              statusCode: '22',
              chargeCents: -35000,
              paidCents: -19040,
              patientResponsibilityCents: -4000,
              payerClaimNumber: '2025121099001',
              statementDate: '2025-12-10',
              serviceLines: [
                svc({
                  segment: 29,
                  procedureCode: '99214',
                  chargeCents: -25000,
                  paidCents: -15040,
                  lineControlNumber: 'LN10045-1',
                  serviceDate: '2025-12-10',
                  adjustments: [cas('PR', '3', -3000, 31), cas('CO', '45', -6960, 32)],
                }),
                svc({
                  segment: 34,
                  procedureCode: '36415',
                  chargeCents: -2500,
                  paidCents: -800,
                  lineControlNumber: 'LN10045-2',
                  serviceDate: '2025-12-10',
                  adjustments: [cas('PR', '2', -200, 36), cas('CO', '45', -1500, 37)],
                }),
                svc({
                  segment: 39,
                  procedureCode: '81002',
                  adjudicatedCode: '81003',
                  chargeCents: -7500,
                  paidCents: -3200,
                  lineControlNumber: 'LN10045-3',
                  serviceDate: '2025-12-10',
                  adjustments: [cas('PR', '2', -800, 41), cas('CO', '45', -3500, 42)],
                }),
              ],
            }),
          ],
        }),
      ],
    });
    // Σ CLP04 = 128.00 + 250.00 − 190.40 = 187.60; Σ PLB = −1.85 + 20.00 + 5.00 − 30.00 + 12.00 = 5.15; 187.60 − 5.15 = 182.45.
    expect(prByClaim(era.payments)).toEqual([
      ['PCN10060', 3200],
      ['PCN10061', 0],
      ['PCN10045', -4000],
    ]);
  });

  it('multiple-payments.835: two payments in one interchange, a second interchange with its own separators and newline terminators', () => {
    const era = parse835(read('multiple-payments.835'));
    expect(era).toEqual({
      payments: [
        payment({
          segment: 4,
          paymentCents: 5200,
          depositDate: '2026-02-03',
          traceNumber: 'EFT20260203001',
          ...LAKESIDE,
          claims: [
            clp({
              segment: 9,
              claimNumber: 'PCN10070',
              statusCode: '1',
              chargeCents: 9500,
              paidCents: 5200,
              patientResponsibilityCents: 2500,
              payerClaimNumber: '2026013099610',
              serviceLines: [
                svc({
                  segment: 11,
                  procedureCode: '99212',
                  chargeCents: 9500,
                  paidCents: 5200,
                  lineControlNumber: 'LN10070-1',
                  serviceDate: '2026-01-26',
                  adjustments: [cas('PR', '3', 2500, 13), cas('CO', '45', 1800, 14)],
                }),
              ],
            }),
          ],
        }),
        payment({
          segment: 18,
          paymentCents: 5600,
          depositDate: '2026-02-03',
          traceNumber: 'CHK778812',
          ...LAKESIDE,
          claims: [
            clp({
              segment: 23,
              claimNumber: 'PCN10071',
              statusCode: '1',
              chargeCents: 7000,
              paidCents: 5600,
              patientResponsibilityCents: null,
              payerClaimNumber: '2026013099611',
              serviceLines: [
                svc({
                  segment: 25,
                  procedureCode: '90686',
                  chargeCents: 4000,
                  paidCents: 3400,
                  lineControlNumber: 'LN10071-1',
                  serviceDate: '2026-01-27',
                  adjustments: [cas('CO', '45', 600, 27)],
                }),
                svc({
                  segment: 29,
                  procedureCode: '90471',
                  chargeCents: 3000,
                  paidCents: 2200,
                  lineControlNumber: 'LN10071-2',
                  serviceDate: '2026-01-27',
                  adjustments: [cas('CO', '45', 800, 31)],
                }),
              ],
            }),
          ],
        }),
        payment({
          segment: 39,
          paymentCents: 15800,
          depositDate: '2026-02-04',
          traceNumber: 'MCD0000451',
          payerName: 'PRAIRIE STATE MEDICAID',
          payerId: '1366000001',
          claims: [
            clp({
              segment: 44,
              claimNumber: 'PCN10072',
              statusCode: '1',
              chargeCents: 15000,
              paidCents: 9600,
              patientResponsibilityCents: null,
              payerClaimNumber: '3260340000451',
              serviceLines: [
                svc({
                  segment: 46,
                  procedureCode: '99393',
                  chargeCents: 15000,
                  paidCents: 9600,
                  lineControlNumber: 'LN10072-1',
                  serviceDate: '2026-01-20',
                  adjustments: [cas('CO', '45', 5400, 48)],
                }),
              ],
            }),
            clp({
              segment: 50,
              claimNumber: 'PCN10073',
              statusCode: '1',
              chargeCents: 12000,
              paidCents: 6200,
              patientResponsibilityCents: 200,
              payerClaimNumber: '3260340000452',
              serviceLines: [
                svc({
                  segment: 52,
                  procedureCode: '99213',
                  chargeCents: 12000,
                  paidCents: 6200,
                  lineControlNumber: 'LN10073-1',
                  serviceDate: '2026-01-21',
                  adjustments: [cas('PR', '3', 200, 54), cas('CO', '45', 5600, 55)],
                }),
              ],
            }),
          ],
        }),
      ],
    });
    expect(prByClaim(era.payments)).toEqual([
      ['PCN10070', 2500],
      ['PCN10071', 0],
      ['PCN10072', 0],
      ['PCN10073', 200],
    ]);
  });

  it('envelope-tolerance.835: text before ISA, CRLF, + and > separators, GS08 005010X221, no BPR16, amounts without two decimals', () => {
    const era = parse835(read('envelope-tolerance.835'));
    // Positions count from ISA, not from the first line of the file: the three lines of text before it do not count.
    expect(era).toEqual({
      payments: [
        payment({
          segment: 4,
          paymentCents: 13750,
          depositDate: null,
          traceNumber: 'HM0100422',
          payerName: 'HARBOR MUTUAL INSURANCE',
          payerId: '1550001234',
          claims: [
            clp({
              segment: 9,
              claimNumber: 'PCN10080',
              statusCode: '1',
              chargeCents: 20000,
              paidCents: 13750,
              patientResponsibilityCents: 1250,
              payerClaimNumber: 'HM7790001',
              serviceLines: [
                svc({
                  segment: 11,
                  procedureCode: '99203',
                  chargeCents: 20000,
                  paidCents: 13750,
                  lineControlNumber: 'LN10080-1',
                  serviceDate: '2026-02-02',
                  adjustments: [cas('PR', '2', 1250, 13), cas('CO', '45', 5000, 14)],
                }),
              ],
            }),
          ],
        }),
      ],
    });
  });

  it('unbalanced-service.835: one service line does not balance, so its claim is unbalanced; the payment balances', () => {
    const [p] = parse835(read('unbalanced-service.835')).payments;
    // PCN10091's line: 150.00 − 20.00 − 50.00 = 80.00, but SVC03 says 90.00. Its CLP04 (80.00) fits CLP03 − Σ CAS.
    expect(p.claims.map((c) => [c.claimNumber, c.balanced, c.prBalanced, c.serviceLines.map((l) => l.balanced)])).toEqual([
      ['PCN10090', true, true, [true]],
      ['PCN10091', false, true, [false]],
    ]);
    expect(p.claims[1].serviceLines[0]).toEqual(
      svc({
        segment: 18,
        procedureCode: '99213',
        chargeCents: 15000,
        paidCents: 9000,
        lineControlNumber: 'LN10091-1',
        serviceDate: '2026-02-03',
        adjustments: [cas('PR', '2', 2000, 20), cas('CO', '45', 5000, 21)],
        balanced: false,
      }),
    );
    expect(prByClaim([p])).toEqual([
      ['PCN10090', 2000],
      ['PCN10091', 2000],
    ]);
    expect(p.balanced).toBe(true); // 71.00 + 80.00 = 151.00
  });

  it('unbalanced-claim.835: the lines balance but CLP04 does not; the payment balances against that CLP04', () => {
    const [p] = parse835(read('unbalanced-claim.835')).payments;
    const [claim] = p.claims;
    // 210.00 − (30.00 + 50.00 + 5.00) = 125.00 = 80.00 + 45.00, but CLP04 says 135.00.
    expect(claim).toMatchObject({ segment: 9, claimNumber: 'PCN10092', chargeCents: 21000, paidCents: 13500, balanced: false, prBalanced: true });
    expect(claim.serviceLines.map((l) => [l.segment, l.procedureCode, l.paidCents, l.balanced])).toEqual([
      [11, '99214', 8000, true],
      [16, '93000', 4500, true],
    ]);
    expect(patientResponsibility(claim)).toBe(3000);
    expect(p.balanced).toBe(true);
  });

  it('unbalanced-payment.835: every claim balances, but Σ CLP04 − Σ PLB is not BPR02', () => {
    const [p] = parse835(read('unbalanced-payment.835')).payments;
    // 70.00 + 110.00 − (−2.00 interest) = 182.00, but BPR02 says 180.00.
    expect(p).toMatchObject({ segment: 4, paymentCents: 18000, balanced: false });
    expect(p.providerAdjustments).toEqual([{ reasonCode: 'L6', referenceId: null, amountCents: -200, segment: 22 }]);
    expect(p.claims.map((c) => [c.claimNumber, c.paidCents, c.balanced, c.prBalanced])).toEqual([
      ['PCN10093', 7000, true, true],
      ['PCN10094', 11000, true, true],
    ]);
    expect(prByClaim([p])).toEqual([
      ['PCN10093', 1000],
      ['PCN10094', 0],
    ]);
  });

  it('unbalanced-pr.835: the claim balances, but its PR triplets do not add up to CLP05', () => {
    const [p] = parse835(read('unbalanced-pr.835')).payments;
    const [claim] = p.claims;
    // PR-1 25.00 + PR-2 15.00 = 40.00, but CLP05 says 45.00.
    expect(claim).toMatchObject({ segment: 9, patientResponsibilityCents: 4500, balanced: true, prBalanced: false });
    expect(claim.serviceLines[0].adjustments).toEqual([cas('PR', '1', 2500, 13), cas('PR', '2', 1500, 13), cas('CO', '45', 3500, 14)]);
    expect(patientResponsibility(claim)).toBe(4000);
    expect(p.balanced).toBe(true);
  });

  it('every balanced test file balances at every level', () => {
    const files = [
      'professional-copay-coinsurance.835',
      'dental.835',
      'secondary-payer.835',
      'denial.835',
      'reversal-correction.835',
      'plb.835',
      'multiple-payments.835',
      'envelope-tolerance.835',
    ];
    for (const file of files) {
      for (const p of parse835(read(file)).payments) {
        expect([file, p.balanced]).toEqual([file, true]);
        for (const claim of p.claims) {
          expect([file, claim.claimNumber, claim.balanced, claim.prBalanced]).toEqual([file, claim.claimNumber, true, true]);
          if (claim.patientResponsibilityCents !== null) expect(patientResponsibility(claim)).toBe(claim.patientResponsibilityCents);
        }
      }
    }
  });
});

/** A small valid 835 whose segments the cases below break one at a time; its positions are the line numbers. */
const BASE = [
  'ISA*00*          *00*          *ZZ*LAKESIDEHP     *ZZ*MAPLESTFM      *260105*0930*^*00501*000000001*0*P*:~', // 1
  'GS*HP*LAKESIDEHP*MAPLESTFM*20260105*0930*1*X*005010X221A1~', // 2
  'ST*835*0001~', // 3
  'BPR*I*52.00*C*CHK************20260105~', // 4
  'TRN*1*CHK1001*1841234567~', // 5
  'N1*PR*LAKESIDE HEALTH PLAN~', // 6
  'LX*1~', // 7
  'CLP*PCN1*1*95.00*52.00*25.00*12*ICN1~', // 8
  'SVC*HC:99212*95.00*52.00**1~', // 9
  'DTM*472*20260102~', // 10
  'CAS*PR*3*25.00~', // 11
  'CAS*CO*45*18.00~', // 12
  'REF*6R*LN1~', // 13
  'SE*12*0001~', // 14
  'GE*1*1~', // 15
  'IEA*1*000000001~', // 16
].join('\n');

/** Replaces one segment (by its line) of BASE, fixing SE01 when the number of segments changes. */
function withSegment(line: number, replacement: string | null, fixCount = true): string {
  const lines = BASE.split('\n');
  if (replacement === null) lines.splice(line - 1, 1);
  else lines[line - 1] = replacement;
  return (fixCount ? recount(lines) : lines).join('\n');
}

/** Inserts a segment after the given line of BASE, fixing SE01. */
function insertAfter(line: number, segment: string): string {
  const lines = BASE.split('\n');
  lines.splice(line, 0, segment);
  return recount(lines).join('\n');
}

function recount(lines: string[]): string[] {
  const st = lines.findIndex((l) => l.startsWith('ST*'));
  const se = lines.findIndex((l) => l.startsWith('SE*'));
  if (st >= 0 && se >= 0) lines[se] = `SE*${se - st + 1}*0001~`;
  return lines;
}

function refusal(content: string): InvalidX12 {
  try {
    parse835(content);
  } catch (error) {
    if (error instanceof InvalidX12) return error;
    throw error;
  }
  throw new Error('expected InvalidX12');
}

describe('parse835 refuses a file that is not a well-formed 835 with InvalidX12 and the segment', () => {
  it('reads BASE, the file the cases break', () => {
    const [p] = parse835(BASE).payments;
    expect(p).toMatchObject({ segment: 4, paymentCents: 5200, traceNumber: 'CHK1001', balanced: true });
    expect(p.claims[0]).toMatchObject({ segment: 8, balanced: true, prBalanced: true });
  });

  it.each<[string, string, number | null, RegExp]>([
    ['an empty file', '', null, /no ISA segment/],
    ['text without ISA', 'Dear provider, your remittance is attached.', null, /not an X12 file/],
    ['binary noise', '\u0000\u0001\u00ff\u00fe\u0007garbage', null, /not an X12 file/],
    ['a letter as element separator', BASE.replace('ISA*', 'ISAX').replace(/\*/g, 'X'), null, /no ISA segment/],
    ['an ISA cut short', BASE.slice(0, 60), 1, /ISA.*16 elements/],
    ['ISA16 equal to the element separator', BASE.replace('*P*:~', '*P**~'), 1, /ISA16 must be the component separator/],
    ['a letter as segment terminator', BASE.replace('*P*:~', '*P*:A'), 1, /segment terminator/],
    ['ISA11 equal to the component separator', BASE.replace('*^*00501*', '*:*00501*'), 1, /ISA11.*repetition separator/],
    ['a file cut after a claim', BASE.split('\n').slice(0, 9).join('\n'), 9, /ends before the IEA.*truncated/],
    ['a file cut inside a segment', BASE.slice(0, BASE.indexOf('CAS*CO') + 6), 12, /ends before the IEA/],
    ['text after the IEA', `${BASE}\nEND OF REPORT`, 16, /text after the IEA/],
    ['GS08 of another version', withSegment(2, 'GS*HP*LAKESIDEHP*MAPLESTFM*20260105*0930*1*X*004010X091A1~'), 2, /GS08 says version '004010X091A1'.*005010X221A1/],
    ['GS01 not HP', withSegment(2, 'GS*HC*LAKESIDEHP*MAPLESTFM*20260105*0930*1*X*005010X221A1~'), 2, /GS01 is 'HC', not HP/],
    ['ST01 not 835', withSegment(3, 'ST*837*0001~'), 3, /ST01 says transaction set '837'/],
    ['a wrong SE01', withSegment(14, 'SE*13*0001~', false), 14, /SE01 says there are '13' segments.*but there are 12/],
    ['an SE01 that is not a number', withSegment(14, 'SE*X*0001~', false), 14, /SE01 says there are 'X'/],
    ['SE02 not ST02', withSegment(14, 'SE*12*0002~', false), 14, /SE02 '0002' does not match ST02 '0001'/],
    ['a wrong GE01', withSegment(15, 'GE*2*1~'), 15, /GE01 says there are '2' transaction sets.*but there are 1/],
    ['GE02 not GS06', withSegment(15, 'GE*1*7~'), 15, /GE02 '7' does not match GS06 '1'/],
    ['a wrong IEA01', withSegment(16, 'IEA*3*000000001~'), 16, /IEA01 says there are '3' functional groups/],
    ['IEA02 not ISA13', withSegment(16, 'IEA*1*000000002~'), 16, /IEA02 '000000002' does not match ISA13 '000000001'/],
    ['ST without SE', withSegment(14, null), 14, /not closed by SE before this GE/],
    ['GS without GE', withSegment(15, null), 15, /expected ST .* or GE .*found IEA/],
    ['a segment before GS', insertAfter(1, 'BPR*I*1.00*C*CHK~'), 2, /expected GS .* or IEA .*found BPR/],
    ['no BPR', withSegment(4, null), 4, /has no BPR: the segment after ST must be BPR.*found TRN/],
    ['no TRN', withSegment(5, null), 5, /has no TRN: the segment after BPR must be TRN.*found N1/],
    ['ST and SE only', BASE.split('\n').filter((_l, i) => i < 3 || i > 12).join('\n').replace('SE*12', 'SE*2'), 4, /transaction set at segment 3 has no BPR/],
    ['BPR and SE only', BASE.split('\n').filter((_l, i) => i < 4 || i > 12).join('\n').replace('SE*12', 'SE*3'), 5, /no TRN \(trace number\) segment after BPR/],
    ['SVC before any CLP', withSegment(8, null), 8, /service line \(SVC\) before any claim/],
    ['CAS outside a claim', insertAfter(7, 'CAS*PR*3*25.00~'), 8, /adjustment \(CAS\) outside any claim/],
    ['an unknown segment', insertAfter(10, 'XYZ*1~'), 11, /XYZ is not expected in the service line at segment 9/],
    ['a header segment inside a claim', insertAfter(8, 'N1*PE*MAPLE STREET~'), 9, /N1 is not expected in claim PCN1 \(CLP at segment 8\)/],
    ['a claim after PLB', insertAfter(7, 'PLB*1234567893*20261231*L6*-1.00~'), 9, /CLP is not expected after PLB/],
    ['a second N1*PR', insertAfter(6, 'N1*PR*OTHER PLAN~'), 7, /second payer \(N1\*PR\).*segment 6/],
    ['a lower-case segment id', withSegment(13, 'ref*6R*LN1~'), 13, /'ref\*6R\*LN1' is not an X12 segment/],
    ['binary noise inside the file', withSegment(10, '\u0000\u00ff\u0001\u0002~'), 10, /'\?\?\?\?' is not an X12 segment/],
    ['an amount with three decimals', withSegment(8, 'CLP*PCN1*1*95.005*52.00*25.00*12*ICN1~'), 8, /CLP03 \(total claim charge\) '95.005' has more than two decimal places/],
    ['an amount with a thousands comma', withSegment(9, 'SVC*HC:99212*1,095.00*52.00**1~'), 9, /SVC02 \(line charge\) '1,095.00' is not an amount/],
    ['an amount in exponent form', withSegment(11, 'CAS*PR*3*2.5E1~'), 11, /CAS03 \(adjustment amount\) '2.5E1' is not an amount/],
    ['an amount with a plus sign', withSegment(4, 'BPR*I*+52.00*C*CHK************20260105~'), 4, /BPR02 .* '\+52.00' is not an amount/],
    ['a missing amount', withSegment(8, 'CLP*PCN1*1*95.00**25.00*12*ICN1~'), 8, /CLP04 \(claim payment\) is missing/],
    ['a bare minus sign', withSegment(12, 'CAS*CO*45*-~'), 12, /CAS03 .* '-' is not an amount/],
    ['an amount too large to count exactly', withSegment(8, 'CLP*PCN1*1*95000000000000.00*52.00*25.00*12*ICN1~'), 8, /too large an amount/],
    ['a 4010 CR group code', withSegment(11, 'CAS*CR*3*25.00~'), 11, /CAS01 'CR' is not a 5010 group code/],
    ['seven CAS triplets', withSegment(12, `CAS*CO${'*45*1.00*'.repeat(7)}`.replace(/\*$/, '~')), 12, /at most 6 adjustments/],
    ['a CAS amount without a reason', withSegment(12, 'CAS*CO**18.00~'), 12, /CAS02 .* must be a claim adjustment reason code/],
    ['a CAS reason without an amount', withSegment(12, 'CAS*CO*45~'), 12, /CAS03 \(adjustment amount\) is missing/],
    ['a CAS without adjustments', withSegment(12, 'CAS*CO~'), 12, /CAS has no adjustment/],
    ['a CAS quantity that is not a number', withSegment(12, 'CAS*CO*45*18.00*two~'), 12, /CAS04 \(adjustment quantity\) 'two' is not a quantity/],
    ['an unknown CLP02', withSegment(8, 'CLP*PCN1*5*95.00*52.00*25.00*12*ICN1~'), 8, /CLP02 '5' is not a 5010 claim status code/],
    ['a CLP without CLP01', withSegment(8, 'CLP**1*95.00*52.00*25.00*12*ICN1~'), 8, /CLP01 \(patient control number\) is missing/],
    ['SVC01 with another component separator', withSegment(9, 'SVC*HC>99212*95.00*52.00**1~'), 9, /SVC01 'HC>99212' has no procedure code.*another separator/],
    ['SVC06 without a code', withSegment(9, 'SVC*HC:99212*95.00*52.00**1*HC~'), 9, /SVC06 .* has no procedure code/],
    ['a service date that is not a date', withSegment(10, 'DTM*472*20260231~'), 10, /DTM02 \(DTM\*472 date\) '20260231' is not a date/],
    ['a 29 February outside a leap year', withSegment(10, 'DTM*472*20250229~'), 10, /'20250229' is not a date/],
    ['two DTM*472 on one line', insertAfter(10, 'DTM*472*20260103~'), 11, /second DTM\*472 in one service line/],
    ['two REF*6R on one line', insertAfter(13, 'REF*6R*LN2~'), 14, /second REF\*6R in one service line/],
    ['a REF*6R without a value', withSegment(13, 'REF*6R~'), 13, /REF02 \(line item control number\) is missing/],
    ['a statement date that is not a date', insertAfter(8, 'DTM*232*2026-01-02~'), 9, /DTM02 \(statement period start\) '2026-01-02' is not a date/],
    ['BPR03 neither C nor D', withSegment(4, 'BPR*I*52.00*X*CHK************20260105~'), 4, /BPR03 must be C .* or D/],
    ['a TRN without TRN02', withSegment(5, 'TRN*1**1841234567~'), 5, /TRN02 .* is missing/],
    ['seven PLB pairs', insertAfter(13, `PLB*1234567893*20261231${'*L6*-1.00'.repeat(7)}~`), 14, /PLB holds at most 6 adjustments/],
    ['a PLB pair without an amount', insertAfter(13, 'PLB*1234567893*20261231*WO:PCN1~'), 14, /PLB04 \(provider adjustment amount\) is missing/],
    ['a PLB pair without a reason', insertAfter(13, 'PLB*1234567893*20261231**5.00~'), 14, /PLB03-1 .* must be a two-character code/],
    ['a PLB without adjustments', insertAfter(13, 'PLB*1234567893*20261231~'), 14, /PLB has no adjustment/],
    ['a PLB without a fiscal period date', insertAfter(13, 'PLB*1234567893**L6*-1.00~'), 14, /PLB02 \(fiscal period date\) is missing/],
  ])('%s', (_name, content, segment, message) => {
    const error = refusal(content);
    expect(error.segment).toBe(segment);
    expect(error.message).toMatch(message);
    if (segment !== null) expect(error.message.startsWith(`Segment ${segment}`)).toBe(true);
  });
});

describe('parse835 tolerates', () => {
  it('CRLF, CR-only terminators and line breaks inside segments', () => {
    const expected = parse835(BASE);
    expect(parse835(BASE.replace(/\n/g, '\r\n'))).toEqual(expected);
    expect(parse835(BASE.replace(/~\n/g, '\r').replace(/~$/, '\r'))).toEqual(expected);
    expect(parse835(BASE.replace('CLP*PCN1*1*95.00', 'CLP*PCN1*1*\r\n95.00'))).toEqual(expected);
    expect(parse835(`${BASE}\n\n`)).toEqual(expected);
  });

  it('newline-only segment terminators', () => {
    expect(parse835(BASE.replace(/~/g, ''))).toEqual(parse835(BASE));
  });

  it('a 29 February in a leap year', () => {
    expect(parse835(withSegment(10, 'DTM*472*20240229~')).payments[0].claims[0].serviceLines[0].serviceDate).toBe('2024-02-29');
  });

  it('a missing or invalid BPR16, which leaves the deposit date empty', () => {
    expect(parse835(withSegment(4, 'BPR*I*52.00*C*CHK~')).payments[0].depositDate).toBeNull();
    expect(parse835(withSegment(4, 'BPR*I*52.00*C*CHK************20002316~')).payments[0].depositDate).toBeNull();
  });

  it('text before ISA that mentions ISA inside words', () => {
    expect(parse835(`Paid by VISA, or by ISA-compliant EFT.\r\n${BASE}`)).toEqual(parse835(BASE));
  });

  it('an ISA whose fixed-width elements are not padded', () => {
    const unpadded = BASE.replace(/^ISA\*00\* {10}\*00\* {10}\*ZZ\*LAKESIDEHP {5}\*ZZ\*MAPLESTFM {6}/, 'ISA*00**00**ZZ*LAKESIDEHP*ZZ*MAPLESTFM');
    expect(parse835(unpadded)).toEqual(parse835(BASE));
  });

  it('a debit payment (BPR03 D), which is negative', () => {
    const debit = withSegment(4, 'BPR*I*52.00*D*CHK************20260105~');
    expect(parse835(debit).payments[0]).toMatchObject({ paymentCents: -5200, balanced: false });
  });

  it('amounts with one decimal, none, a leading point or a bare minus zero', () => {
    const claim = (clpSegment: string) => parse835(withSegment(8, clpSegment)).payments[0].claims[0];
    expect(claim('CLP*PCN1*1*95*52.0*25.*12*ICN1~')).toMatchObject({ chargeCents: 9500, paidCents: 5200, patientResponsibilityCents: 2500 });
    expect(claim('CLP*PCN1*1*.5*-.05*-0*12*ICN1~')).toMatchObject({ chargeCents: 50, paidCents: -5, patientResponsibilityCents: 0 });
    expect(Object.is(claim('CLP*PCN1*1*95.00*-0.00**12*ICN1~').paidCents, 0)).toBe(true);
  });

  it('six CAS triplets in one segment, and six PLB pairs', () => {
    const sixCas = withSegment(12, 'CAS*CO*45*3.00**45*3.00**45*3.00**45*3.00**45*3.00**45*3.00~');
    expect(parse835(sixCas).payments[0].claims[0].serviceLines[0].adjustments).toHaveLength(7);
    const sixPlb = insertAfter(13, `PLB*1234567893*20261231${'*L6*-1.00'.repeat(6)}~`);
    expect(parse835(sixPlb).payments[0].providerAdjustments).toHaveLength(6);
  });
});

describe('MAX_ERA_BYTES', () => {
  it('is 5 MiB (docs/era.md §1)', () => {
    expect(MAX_ERA_BYTES).toBe(5_242_880);
  });
});
