// Synthetic visit records for DF03: a handful of meaningful fields of the EE (inpatient) and ED
// (outpatient) layouts, addressed by field name through the shared catalogue; the rest stays FF.
import { itemsOfFile, type ItemFile } from '../../apdu/healthcard/data-items.ts';
import type { SeededRandom } from '../card-os/seeded-random.ts';
import type { City } from './city-codes.ts';
import type { ItemValues } from './profile.ts';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function byField(group: ItemFile, fields: Record<string, string>): ItemValues {
  const out: ItemValues = {};
  const items = itemsOfFile(group);
  for (const [field, value] of Object.entries(fields)) {
    const item = items.find((i) => i.field === field);
    if (item) out[item.itemNo] = value;
  }
  return out;
}

const DIAGNOSES: ReadonlyArray<[string, string]> = [
  ['J18.900', '肺炎'], ['I10.x00', '原发性高血压'], ['E11.900', '2型糖尿病'], ['K35.800', '急性阑尾炎'],
  ['J06.900', '急性上呼吸道感染'], ['K29.700', '胃炎'], ['M54.500', '腰痛'], ['S52.500', '桡骨下端骨折'],
];
const DEPARTMENTS = ['内科', '外科', '儿科', '骨科', '呼吸内科', '消化内科', '心血管内科', '急诊科'];
const DOCTOR_SURNAMES = ['王', '李', '陈', '张', '刘'];

function visitDate(r: SeededRandom, birthYear: number): string {
  const y = r.between(Math.max(birthYear + 1, 2016), 2025);
  return `${y}${pad(r.between(1, 12), 2)}${pad(r.between(1, 28), 2)}`;
}

function time(r: SeededRandom): string {
  return `${pad(r.between(7, 20), 2)}${pad(r.between(0, 59), 2)}${pad(r.between(0, 59), 2)}`;
}

function institution(r: SeededRandom, city: City): [string, string] {
  const n = r.between(1, 9);
  return [`${city.name}第${'一二三四五六七八九'[n - 1]}人民医院`, `${city.code.slice(0, 4)}${pad(r.int(1e6), 6)}`];
}

export function inpatientVisit(r: SeededRandom, city: City, birthYear: number): ItemValues {
  const [name, code] = institution(r, city);
  const admitted = visitDate(r, birthYear);
  const days = r.between(2, 14);
  const out = new Date(Date.UTC(Number(admitted.slice(0, 4)), Number(admitted.slice(4, 6)) - 1, Number(admitted.slice(6, 8)) + days));
  const discharged = `${out.getUTCFullYear()}${pad(out.getUTCMonth() + 1, 2)}${pad(out.getUTCDate(), 2)}`;
  const [dxCode, dxName] = r.pick(DIAGNOSES);
  const department = r.pick(DEPARTMENTS);
  return byField('DF03/EE', {
    institutionName: name, institutionCode: code, medicalRecordNo: pad(r.int(1e8), 8), inpatientNo: pad(r.int(1e8), 8),
    admissionCount: String(r.between(1, 3)), paymentMethod: '01', admissionRoute: '2',
    admissionDateTime: admitted + time(r), admissionDepartment: department, dischargeDateTime: discharged + time(r),
    dischargeDepartment: department, inpatientDays: String(days), mainDiagnosisCode: dxCode, mainDiagnosisName: dxName,
    mainDiagnosisOutcome: '1', dischargeMode: '1', attendingPhysician: `${r.pick(DOCTOR_SURNAMES)}医生`,
    totalFee: String(r.between(300000, 3000000)), selfPaidFee: String(r.between(50000, 300000)), recordStatus: '1',
  });
}

export function outpatientVisit(r: SeededRandom, city: City, birthYear: number): ItemValues {
  const [name, code] = institution(r, city);
  const date = visitDate(r, birthYear);
  const [dxCode, dxName] = r.pick(DIAGNOSES);
  return byField('DF03/ED', {
    institutionName: name, institutionCode: code, outpatientNo: pad(r.int(1e9), 10), visitDateTime: date + time(r),
    visitType: '1', department: r.pick(DEPARTMENTS), doctorName: `${r.pick(DOCTOR_SURNAMES)}医生`, paymentMethod: '01',
    ageYears: String(Math.max(0, Number(date.slice(0, 4)) - birthYear)), chiefComplaint: `${dxName}就诊`,
    temperature: String(r.between(362, 389)), pulse: String(r.between(60, 110)), systolicPressure: String(r.between(100, 150)),
    diastolicPressure: String(r.between(60, 95)), diagnosis1Code: dxCode, diagnosis1Name: dxName, diagnosis1Type: '1',
    diagnosis1Date: date, totalFee: String(r.between(2000, 80000)), registrationFee: String(r.between(500, 5000)), recordStatus: '1',
  });
}
