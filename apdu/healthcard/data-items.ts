// The data-item catalogue 1–384 of the vendor "by item number" API (shared/domain/health-card.md §3):
// 1–57 the TLV items (tag = item number), 58–61 allergy/immunisation record fields, 62–63 DF03 index
// flags, 64–212 the inpatient (EE) fields, 213–384 the outpatient (ED) fields.
// The EE/ED layouts are not public: these are Yika's own fixed-offset layouts (field lengths chosen
// after the inpatient front page 病案首页 and an outpatient visit summary); they tile exactly 1639 and
// 3013 bytes, followed by a 64-byte signature and a 190-byte certificate in each visit file.

import {
  INPATIENT_DATA_LENGTH, OUTPATIENT_DATA_LENGTH,
  VISIT_CERTIFICATE_LENGTH, VISIT_SIGNATURE_LENGTH, TLV_ITEM_LENGTHS, type FileId,
} from './file-map.ts';

export type ItemFormat = 'an' | 'cn' | 'b';

/**
 * What a value must be beyond its encoding, checked by the writer before any APDU
 * (health-card-writer.ts checkItemValue): 'text' whatever the card text codec accepts; 'phone' digits
 * with an optional leading + and single - or space separators; 'digits' (cn); 'date' YYYYMMDD;
 * 'dateTime' YYYYMMDDhhmmss; 'hex' (b); and the code tables 'sex', 'ethnicity', 'idNumber', 'cityCode'.
 */
export type ValueType = 'text' | 'phone' | 'digits' | 'date' | 'dateTime' | 'hex' | 'sex' | 'ethnicity' | 'idNumber' | 'cityCode';

/**
 * Where an item lives. TLV items name their file; record-based raw items name a "file group":
 * 'DF02/EF07' (each allergy record), 'DF02/EF08' (each immunisation record), 'DF03/EF05' / 'DF03/EF06'
 * (each index record), 'DF03/EE' (each of EE01–EE03), 'DF03/ED' (each of ED01–ED05).
 */
export type ItemFile = FileId | 'DF03/EE' | 'DF03/ED';

export interface DataItem {
  itemNo: number;
  /** Stable English name (camelCase), unique inside its file. */
  field: string;
  nameZh: string;
  file: ItemFile;
  format: ItemFormat;
  /** What the value must be (checked before writing). */
  valueType: ValueType;
  /** Value length in bytes. */
  length: number;
  /** TLV items: the tag (= itemNo). */
  tag?: number;
  /** Raw layouts: byte offset inside the record (58–63) or the visit file data area (64–384). */
  offset?: number;
}

type TlvRow = [itemNo: number, field: string, nameZh: string, file: FileId, format: ItemFormat];
type LayoutRow = [field: string, nameZh: string, format: ItemFormat, length: number];

// Items 1–57: every tag the domain note names (lengths from TLV_ITEM_LENGTHS in file-map.ts).
const TLV_ITEMS: readonly TlvRow[] = [
  [0x01, 'cardType', '卡的类别', 'DDF1/EF05', 'an'],
  [0x02, 'specVersion', '规范版本', 'DDF1/EF05', 'an'],
  [0x03, 'issuerName', '发卡机构名称', 'DDF1/EF05', 'an'],
  [0x04, 'issuerCode', '发卡机构代码', 'DDF1/EF05', 'cn'],
  [0x05, 'issuerCertificate', '发卡机构证书', 'DDF1/EF05', 'b'],
  [0x06, 'issueDate', '发卡时间', 'DDF1/EF05', 'cn'],
  [0x07, 'expiryDate', '卡有效期', 'DDF1/EF08', 'cn'],
  [0x08, 'cardNumber', '卡号', 'DDF1/EF05', 'an'],
  [0x09, 'securityCode', '安全码', 'DDF1/EF05', 'an'],
  [0x0a, 'chipSerial', '芯片序列号', 'DDF1/EF05', 'an'],
  [0x0b, 'name', '姓名', 'DDF1/EF06', 'an'],
  [0x0c, 'sex', '性别代码', 'DDF1/EF06', 'b'],
  [0x0d, 'ethnicity', '民族代码', 'DDF1/EF06', 'cn'],
  [0x0e, 'birthDate', '出生日期', 'DDF1/EF06', 'cn'],
  [0x0f, 'idNumber', '居民身份证号码', 'DDF1/EF06', 'an'],
  [0x10, 'phone1', '本人电话1', 'DDF1/EF08', 'an'],
  [0x11, 'phone2', '本人电话2', 'DDF1/EF08', 'an'],
  [0x12, 'paymentMethod1', '医疗费用支付方式1', 'DDF1/EF08', 'cn'],
  [0x13, 'paymentMethod2', '医疗费用支付方式2', 'DDF1/EF08', 'cn'],
  [0x14, 'paymentMethod3', '医疗费用支付方式3', 'DDF1/EF08', 'cn'],
  [0x15, 'addressType1', '地址类别1', 'DF01/EF05', 'cn'],
  [0x16, 'address1', '地址1', 'DF01/EF05', 'an'],
  [0x17, 'addressType2', '地址类别2', 'DF01/EF05', 'cn'],
  [0x18, 'address2', '地址2', 'DF01/EF05', 'an'],
  [0x19, 'contact1Name', '联系人1姓名', 'DF01/EF06', 'an'],
  [0x1a, 'contact1Relation', '联系人1关系代码', 'DF01/EF06', 'cn'],
  [0x1b, 'contact1Phone', '联系人1电话', 'DF01/EF06', 'an'],
  [0x1c, 'contact2Name', '联系人2姓名', 'DF01/EF06', 'an'],
  [0x1d, 'contact2Relation', '联系人2关系代码', 'DF01/EF06', 'cn'],
  [0x1e, 'contact2Phone', '联系人2电话', 'DF01/EF06', 'an'],
  [0x1f, 'contact3Name', '联系人3姓名', 'DF01/EF06', 'an'],
  [0x20, 'contact3Relation', '联系人3关系代码', 'DF01/EF06', 'cn'],
  [0x21, 'contact3Phone', '联系人3电话', 'DF01/EF06', 'an'],
  [0x22, 'education', '文化程度代码', 'DF01/EF07', 'cn'],
  [0x23, 'maritalStatus', '婚姻状况代码', 'DF01/EF07', 'cn'],
  [0x24, 'occupation', '职业代码', 'DF01/EF07', 'an'],
  [0x25, 'documentType', '证件类别', 'DF01/EF08', 'cn'],
  [0x26, 'documentNumber', '证件号码', 'DF01/EF08', 'an'],
  [0x27, 'healthRecordNumber', '健康档案编号', 'DF01/EF08', 'an'],
  [0x28, 'ruralInsuranceNumber', '新农合证(卡)号', 'DF01/EF08', 'an'],
  [0x29, 'aboBloodType', 'ABO血型代码', 'DF02/EF05', 'b'],
  [0x2a, 'rhBloodType', 'RH血型代码', 'DF02/EF05', 'cn'],
  [0x2b, 'asthma', '哮喘标志', 'DF02/EF05', 'b'],
  [0x2c, 'heartDisease', '心脏病标志', 'DF02/EF05', 'b'],
  [0x2d, 'cardioCerebrovascularDisease', '心脑血管病标志', 'DF02/EF05', 'b'],
  [0x2e, 'epilepsy', '癫痫病标志', 'DF02/EF05', 'b'],
  [0x2f, 'coagulationDisorder', '凝血紊乱标志', 'DF02/EF05', 'b'],
  [0x30, 'diabetes', '糖尿病标志', 'DF02/EF05', 'b'],
  [0x31, 'glaucoma', '青光眼标志', 'DF02/EF05', 'b'],
  [0x32, 'dialysis', '透析标志', 'DF02/EF05', 'b'],
  [0x33, 'organTransplant', '器官移植标志', 'DF02/EF05', 'b'],
  [0x34, 'organMissing', '器官缺失标志', 'DF02/EF05', 'b'],
  [0x35, 'removableProsthesis', '可装卸义肢标志', 'DF02/EF05', 'b'],
  [0x36, 'pacemaker', '心脏起搏器标志', 'DF02/EF05', 'b'],
  [0x37, 'otherMedicalAlert', '其他医学警示名称', 'DF02/EF05', 'an'],
  [0x38, 'psychiatricFlag', '精神病标志', 'DF02/EF06', 'b'],
  [0x39, 'cityCode', '居民健康卡城市代码', 'DDF1/EF05', 'cn'],
];

const INPATIENT_LAYOUT: readonly LayoutRow[] = [
  ['institutionName', '医疗机构名称', 'an', 70],
  ['institutionCode', '医疗机构代码', 'an', 10],
  ['medicalRecordNo', '病案号', 'an', 12],
  ['inpatientNo', '住院号', 'an', 12],
  ['admissionCount', '住院次数', 'cn', 2],
  ['paymentMethod', '医疗付费方式', 'cn', 1],
  ['admissionRoute', '入院途径', 'cn', 1],
  ['admissionDateTime', '入院时间', 'cn', 7],
  ['admissionDepartment', '入院科别', 'an', 20],
  ['admissionWard', '入院病房', 'an', 10],
  ['transferDepartment', '转科科别', 'an', 20],
  ['dischargeDateTime', '出院时间', 'cn', 7],
  ['dischargeDepartment', '出院科别', 'an', 20],
  ['dischargeWard', '出院病房', 'an', 10],
  ['inpatientDays', '实际住院天数', 'cn', 2],
  ['outpatientDiagnosisCode', '门(急)诊诊断编码', 'an', 20],
  ['outpatientDiagnosisName', '门(急)诊诊断名称', 'an', 50],
  ['admissionCondition', '入院病情', 'cn', 1],
  ['admissionDiagnosisCode', '入院诊断编码', 'an', 20],
  ['admissionDiagnosisName', '入院诊断名称', 'an', 50],
  ['confirmedDiagnosisDate', '入院后确诊日期', 'cn', 4],
  ['mainDiagnosisCode', '出院主要诊断编码', 'an', 20],
  ['mainDiagnosisName', '出院主要诊断名称', 'an', 100],
  ['mainDiagnosisCondition', '主要诊断入院病情', 'cn', 1],
  ['mainDiagnosisOutcome', '主要诊断出院情况', 'cn', 1],
  ['otherDiagnosis1Code', '其他诊断1编码', 'an', 20],
  ['otherDiagnosis1Name', '其他诊断1名称', 'an', 40],
  ['otherDiagnosis1Condition', '其他诊断1入院病情', 'cn', 1],
  ['otherDiagnosis1Outcome', '其他诊断1出院情况', 'cn', 1],
  ['otherDiagnosis2Code', '其他诊断2编码', 'an', 20],
  ['otherDiagnosis2Name', '其他诊断2名称', 'an', 40],
  ['otherDiagnosis2Condition', '其他诊断2入院病情', 'cn', 1],
  ['otherDiagnosis2Outcome', '其他诊断2出院情况', 'cn', 1],
  ['otherDiagnosis3Code', '其他诊断3编码', 'an', 20],
  ['otherDiagnosis3Name', '其他诊断3名称', 'an', 40],
  ['otherDiagnosis3Condition', '其他诊断3入院病情', 'cn', 1],
  ['otherDiagnosis3Outcome', '其他诊断3出院情况', 'cn', 1],
  ['otherDiagnosis4Code', '其他诊断4编码', 'an', 20],
  ['otherDiagnosis4Name', '其他诊断4名称', 'an', 40],
  ['otherDiagnosis4Condition', '其他诊断4入院病情', 'cn', 1],
  ['otherDiagnosis4Outcome', '其他诊断4出院情况', 'cn', 1],
  ['externalCauseCode', '损伤中毒外部原因编码', 'an', 20],
  ['externalCauseName', '损伤中毒外部原因', 'an', 30],
  ['pathologyDiagnosisCode', '病理诊断编码', 'an', 20],
  ['pathologyDiagnosisName', '病理诊断名称', 'an', 40],
  ['pathologyNo', '病理号', 'an', 18],
  ['drugAllergyFlag', '有无药物过敏', 'cn', 1],
  ['allergyDrugName', '过敏药物', 'an', 30],
  ['autopsyFlag', '死亡患者尸检', 'cn', 1],
  ['aboBloodType', 'ABO血型', 'cn', 1],
  ['rhBloodType', 'Rh血型', 'cn', 1],
  ['departmentDirector', '科主任', 'an', 16],
  ['chiefPhysician', '主任(副主任)医师', 'an', 16],
  ['attendingPhysician', '主治医师', 'an', 16],
  ['residentPhysician', '住院医师', 'an', 16],
  ['responsibleNurse', '责任护士', 'an', 16],
  ['refresherPhysician', '进修医师', 'an', 16],
  ['internPhysician', '实习医师', 'an', 16],
  ['coder', '编码员', 'an', 16],
  ['recordQuality', '病案质量', 'cn', 1],
  ['qualityControlPhysician', '质控医师', 'an', 16],
  ['qualityControlNurse', '质控护士', 'an', 16],
  ['qualityControlDate', '质控日期', 'cn', 4],
  ['operation1Code', '手术及操作1编码', 'an', 20],
  ['operation1Date', '手术及操作1日期', 'cn', 4],
  ['operation1Level', '手术1级别', 'cn', 1],
  ['operation1Name', '手术及操作1名称', 'an', 40],
  ['operation1Surgeon', '手术1术者', 'an', 16],
  ['operation1IncisionHealing', '手术1切口愈合等级', 'an', 4],
  ['operation1AnesthesiaMethod', '手术1麻醉方式', 'an', 6],
  ['operation1Anesthesiologist', '手术1麻醉医师', 'an', 16],
  ['operation2Code', '手术及操作2编码', 'an', 20],
  ['operation2Date', '手术及操作2日期', 'cn', 4],
  ['operation2Level', '手术2级别', 'cn', 1],
  ['operation2Name', '手术及操作2名称', 'an', 40],
  ['operation2Surgeon', '手术2术者', 'an', 16],
  ['operation2IncisionHealing', '手术2切口愈合等级', 'an', 4],
  ['operation2AnesthesiaMethod', '手术2麻醉方式', 'an', 6],
  ['operation2Anesthesiologist', '手术2麻醉医师', 'an', 16],
  ['operation3Code', '手术及操作3编码', 'an', 20],
  ['operation3Date', '手术及操作3日期', 'cn', 4],
  ['operation3Level', '手术3级别', 'cn', 1],
  ['operation3Name', '手术及操作3名称', 'an', 40],
  ['operation3Surgeon', '手术3术者', 'an', 16],
  ['operation3IncisionHealing', '手术3切口愈合等级', 'an', 4],
  ['operation3AnesthesiaMethod', '手术3麻醉方式', 'an', 6],
  ['operation3Anesthesiologist', '手术3麻醉医师', 'an', 16],
  ['dischargeMode', '离院方式', 'cn', 1],
  ['receivingInstitution', '拟接收医疗机构名称', 'an', 40],
  ['readmissionPlan', '出院31天内再住院计划', 'cn', 1],
  ['readmissionPurpose', '再住院目的', 'an', 30],
  ['comaBeforeDays', '入院前昏迷天数', 'cn', 1],
  ['comaBeforeHours', '入院前昏迷小时', 'cn', 1],
  ['comaBeforeMinutes', '入院前昏迷分钟', 'cn', 1],
  ['comaAfterDays', '入院后昏迷天数', 'cn', 1],
  ['comaAfterHours', '入院后昏迷小时', 'cn', 1],
  ['comaAfterMinutes', '入院后昏迷分钟', 'cn', 1],
  ['newbornBirthWeight', '新生儿出生体重(克)', 'cn', 2],
  ['newbornAdmissionWeight', '新生儿入院体重(克)', 'cn', 2],
  ['ventilatorHours', '呼吸机使用时间(小时)', 'cn', 2],
  ['clinicalPathway', '临床路径管理', 'cn', 1],
  ['hospitalInfection', '医院感染', 'cn', 1],
  ['rescueCount', '抢救次数', 'cn', 1],
  ['rescueSuccessCount', '抢救成功次数', 'cn', 1],
  ['specialCareDays', '特级护理天数', 'cn', 2],
  ['firstLevelCareDays', '一级护理天数', 'cn', 2],
  ['secondLevelCareDays', '二级护理天数', 'cn', 2],
  ['thirdLevelCareDays', '三级护理天数', 'cn', 2],
  ['icuDays', '重症监护天数', 'cn', 2],
  ['transfusionReaction', '输血反应', 'cn', 1],
  ['redCellUnits', '红细胞(单位)', 'cn', 2],
  ['plateletUnits', '血小板(袋)', 'cn', 2],
  ['plasmaMl', '血浆(ml)', 'cn', 2],
  ['wholeBloodMl', '全血(ml)', 'cn', 2],
  ['totalFee', '住院总费用(分)', 'cn', 5],
  ['selfPaidFee', '自付金额(分)', 'cn', 5],
  ['generalServiceFee', '一般医疗服务费(分)', 'cn', 4],
  ['generalTreatmentFee', '一般治疗操作费(分)', 'cn', 4],
  ['nursingFee', '护理费(分)', 'cn', 4],
  ['otherComprehensiveFee', '综合医疗服务类其他费用(分)', 'cn', 4],
  ['pathologyFee', '病理诊断费(分)', 'cn', 4],
  ['laboratoryFee', '实验室诊断费(分)', 'cn', 4],
  ['imagingFee', '影像学诊断费(分)', 'cn', 4],
  ['clinicalDiagnosisFee', '临床诊断项目费(分)', 'cn', 4],
  ['nonSurgicalTreatmentFee', '非手术治疗项目费(分)', 'cn', 4],
  ['clinicalPhysiotherapyFee', '临床物理治疗费(分)', 'cn', 4],
  ['surgicalTreatmentFee', '手术治疗费(分)', 'cn', 4],
  ['anesthesiaFee', '麻醉费(分)', 'cn', 4],
  ['operationFee', '手术费(分)', 'cn', 4],
  ['rehabilitationFee', '康复费(分)', 'cn', 4],
  ['tcmTreatmentFee', '中医治疗费(分)', 'cn', 4],
  ['westernMedicineFee', '西药费(分)', 'cn', 4],
  ['antibacterialFee', '抗菌药物费用(分)', 'cn', 4],
  ['chinesePatentMedicineFee', '中成药费(分)', 'cn', 4],
  ['chineseHerbalFee', '中草药费(分)', 'cn', 4],
  ['bloodFee', '血费(分)', 'cn', 4],
  ['albuminFee', '白蛋白类制品费(分)', 'cn', 4],
  ['globulinFee', '球蛋白类制品费(分)', 'cn', 4],
  ['coagulationFactorFee', '凝血因子类制品费(分)', 'cn', 4],
  ['cytokineFee', '细胞因子类制品费(分)', 'cn', 4],
  ['examinationMaterialFee', '检查用一次性医用材料费(分)', 'cn', 4],
  ['treatmentMaterialFee', '治疗用一次性医用材料费(分)', 'cn', 4],
  ['surgicalMaterialFee', '手术用一次性医用材料费(分)', 'cn', 4],
  ['otherFee', '其他费(分)', 'cn', 4],
  ['medicalInsuranceNo', '医保号', 'an', 20],
  ['reporter', '填报人', 'an', 16],
  ['reportDate', '填报日期', 'cn', 4],
  ['ageUnderOneYearDays', '年龄不足1周岁天龄', 'cn', 2],
  ['recordStatus', '记录状态', 'cn', 1],
];

const OUTPATIENT_LAYOUT: readonly LayoutRow[] = [
  ['institutionName', '医疗机构名称', 'an', 70],
  ['institutionCode', '医疗机构代码', 'an', 10],
  ['outpatientNo', '门诊号', 'an', 17],
  ['visitDateTime', '就诊时间', 'cn', 7],
  ['visitType', '就诊类型', 'cn', 1],
  ['department', '就诊科室', 'an', 20],
  ['departmentCode', '科室代码', 'an', 10],
  ['doctorName', '接诊医师', 'an', 16],
  ['doctorCode', '医师代码', 'an', 10],
  ['paymentMethod', '医疗付费方式', 'cn', 1],
  ['ageYears', '就诊年龄(岁)', 'cn', 2],
  ['returnVisitFlag', '复诊标志', 'cn', 1],
  ['isolationFlag', '隔离标志', 'cn', 1],
  ['painScore', '疼痛评分', 'cn', 1],
  ['emergencyFlag', '急诊标志', 'cn', 1],
  ['triageLevel', '分诊级别', 'cn', 1],
  ['chiefComplaint', '主诉', 'an', 100],
  ['presentIllness', '现病史', 'an', 100],
  ['pastHistory', '既往史', 'an', 100],
  ['allergyHistory', '过敏史', 'an', 50],
  ['temperature', '体温(0.1℃)', 'cn', 2],
  ['pulse', '脉搏(次/分)', 'cn', 2],
  ['respiration', '呼吸(次/分)', 'cn', 2],
  ['systolicPressure', '收缩压(mmHg)', 'cn', 2],
  ['diastolicPressure', '舒张压(mmHg)', 'cn', 2],
  ['height', '身高(cm)', 'cn', 2],
  ['weight', '体重(0.1kg)', 'cn', 2],
  ['bloodGlucose', '血糖(0.1mmol/L)', 'cn', 2],
  ['oxygenSaturation', '血氧饱和度(%)', 'cn', 1],
  ['consciousness', '意识状态', 'cn', 1],
  ['pregnancyFlag', '妊娠标志', 'cn', 1],
  ['lactationFlag', '哺乳标志', 'cn', 1],
  ['smokingFlag', '吸烟标志', 'cn', 1],
  ['drinkingFlag', '饮酒标志', 'cn', 1],
  ['physicalExam', '体格检查', 'an', 100],
  ['auxiliaryExam', '辅助检查', 'an', 100],
  ['diagnosis1Code', '诊断1编码(ICD-10)', 'an', 20],
  ['diagnosis1Name', '诊断1名称', 'an', 100],
  ['diagnosis1Type', '诊断1类别', 'cn', 1],
  ['diagnosis1Date', '诊断1日期', 'cn', 4],
  ['diagnosis2Code', '诊断2编码(ICD-10)', 'an', 20],
  ['diagnosis2Name', '诊断2名称', 'an', 100],
  ['diagnosis2Type', '诊断2类别', 'cn', 1],
  ['diagnosis2Date', '诊断2日期', 'cn', 4],
  ['diagnosis3Code', '诊断3编码(ICD-10)', 'an', 20],
  ['diagnosis3Name', '诊断3名称', 'an', 100],
  ['diagnosis3Type', '诊断3类别', 'cn', 1],
  ['diagnosis3Date', '诊断3日期', 'cn', 4],
  ['diagnosis4Code', '诊断4编码(ICD-10)', 'an', 20],
  ['diagnosis4Name', '诊断4名称', 'an', 100],
  ['diagnosis4Type', '诊断4类别', 'cn', 1],
  ['diagnosis4Date', '诊断4日期', 'cn', 4],
  ['diagnosis5Code', '诊断5编码(ICD-10)', 'an', 20],
  ['diagnosis5Name', '诊断5名称', 'an', 100],
  ['diagnosis5Type', '诊断5类别', 'cn', 1],
  ['diagnosis5Date', '诊断5日期', 'cn', 4],
  ['tcmDiagnosisCode', '中医诊断编码', 'an', 20],
  ['tcmDiagnosisName', '中医诊断名称', 'an', 50],
  ['tcmSyndromeCode', '中医证候编码', 'an', 20],
  ['tcmSyndromeName', '中医证候名称', 'an', 50],
  ['chronicDiseaseFlag', '慢病标志', 'cn', 1],
  ['infectiousDiseaseReport', '传染病报告标志', 'cn', 1],
  ['treatmentPlan', '处理意见', 'an', 100],
  ['prescriptionNo', '处方号', 'an', 20],
  ['prescriptionCount', '处方药品数', 'cn', 1],
  ['drug1Code', '药品1编码', 'an', 20],
  ['drug1Name', '药品1名称', 'an', 50],
  ['drug1Specification', '药品1规格', 'an', 20],
  ['drug1Dose', '药品1单次剂量', 'an', 10],
  ['drug1DoseUnit', '药品1剂量单位', 'an', 6],
  ['drug1Frequency', '药品1频次', 'an', 10],
  ['drug1Route', '药品1用法', 'an', 10],
  ['drug1Days', '药品1天数', 'cn', 1],
  ['drug1Quantity', '药品1总量', 'cn', 2],
  ['drug1QuantityUnit', '药品1总量单位', 'an', 6],
  ['drug1SkinTest', '药品1皮试结果', 'cn', 1],
  ['drug2Code', '药品2编码', 'an', 20],
  ['drug2Name', '药品2名称', 'an', 50],
  ['drug2Specification', '药品2规格', 'an', 20],
  ['drug2Dose', '药品2单次剂量', 'an', 10],
  ['drug2DoseUnit', '药品2剂量单位', 'an', 6],
  ['drug2Frequency', '药品2频次', 'an', 10],
  ['drug2Route', '药品2用法', 'an', 10],
  ['drug2Days', '药品2天数', 'cn', 1],
  ['drug2Quantity', '药品2总量', 'cn', 2],
  ['drug2QuantityUnit', '药品2总量单位', 'an', 6],
  ['drug2SkinTest', '药品2皮试结果', 'cn', 1],
  ['drug3Code', '药品3编码', 'an', 20],
  ['drug3Name', '药品3名称', 'an', 50],
  ['drug3Specification', '药品3规格', 'an', 20],
  ['drug3Dose', '药品3单次剂量', 'an', 10],
  ['drug3DoseUnit', '药品3剂量单位', 'an', 6],
  ['drug3Frequency', '药品3频次', 'an', 10],
  ['drug3Route', '药品3用法', 'an', 10],
  ['drug3Days', '药品3天数', 'cn', 1],
  ['drug3Quantity', '药品3总量', 'cn', 2],
  ['drug3QuantityUnit', '药品3总量单位', 'an', 6],
  ['drug3SkinTest', '药品3皮试结果', 'cn', 1],
  ['drug4Code', '药品4编码', 'an', 20],
  ['drug4Name', '药品4名称', 'an', 50],
  ['drug4Specification', '药品4规格', 'an', 20],
  ['drug4Dose', '药品4单次剂量', 'an', 10],
  ['drug4DoseUnit', '药品4剂量单位', 'an', 6],
  ['drug4Frequency', '药品4频次', 'an', 10],
  ['drug4Route', '药品4用法', 'an', 10],
  ['drug4Days', '药品4天数', 'cn', 1],
  ['drug4Quantity', '药品4总量', 'cn', 2],
  ['drug4QuantityUnit', '药品4总量单位', 'an', 6],
  ['drug4SkinTest', '药品4皮试结果', 'cn', 1],
  ['drug5Code', '药品5编码', 'an', 20],
  ['drug5Name', '药品5名称', 'an', 50],
  ['drug5Specification', '药品5规格', 'an', 20],
  ['drug5Dose', '药品5单次剂量', 'an', 10],
  ['drug5DoseUnit', '药品5剂量单位', 'an', 6],
  ['drug5Frequency', '药品5频次', 'an', 10],
  ['drug5Route', '药品5用法', 'an', 10],
  ['drug5Days', '药品5天数', 'cn', 1],
  ['drug5Quantity', '药品5总量', 'cn', 2],
  ['drug5QuantityUnit', '药品5总量单位', 'an', 6],
  ['drug5SkinTest', '药品5皮试结果', 'cn', 1],
  ['drug6Code', '药品6编码', 'an', 20],
  ['drug6Name', '药品6名称', 'an', 50],
  ['drug6Specification', '药品6规格', 'an', 20],
  ['drug6Dose', '药品6单次剂量', 'an', 10],
  ['drug6DoseUnit', '药品6剂量单位', 'an', 6],
  ['drug6Frequency', '药品6频次', 'an', 10],
  ['drug6Route', '药品6用法', 'an', 10],
  ['drug6Days', '药品6天数', 'cn', 1],
  ['drug6Quantity', '药品6总量', 'cn', 2],
  ['drug6QuantityUnit', '药品6总量单位', 'an', 6],
  ['drug6SkinTest', '药品6皮试结果', 'cn', 1],
  ['exam1Code', '检查检验1编码', 'an', 10],
  ['exam1Name', '检查检验1名称', 'an', 30],
  ['exam1Result', '检查检验1结果', 'an', 40],
  ['exam1AbnormalFlag', '检查检验1异常标志', 'cn', 1],
  ['exam1Date', '检查检验1日期', 'cn', 4],
  ['exam2Code', '检查检验2编码', 'an', 10],
  ['exam2Name', '检查检验2名称', 'an', 30],
  ['exam2Result', '检查检验2结果', 'an', 40],
  ['exam2AbnormalFlag', '检查检验2异常标志', 'cn', 1],
  ['exam2Date', '检查检验2日期', 'cn', 4],
  ['exam3Code', '检查检验3编码', 'an', 10],
  ['exam3Name', '检查检验3名称', 'an', 30],
  ['exam3Result', '检查检验3结果', 'an', 40],
  ['exam3AbnormalFlag', '检查检验3异常标志', 'cn', 1],
  ['exam3Date', '检查检验3日期', 'cn', 4],
  ['exam4Code', '检查检验4编码', 'an', 10],
  ['exam4Name', '检查检验4名称', 'an', 30],
  ['exam4Result', '检查检验4结果', 'an', 40],
  ['exam4AbnormalFlag', '检查检验4异常标志', 'cn', 1],
  ['exam4Date', '检查检验4日期', 'cn', 4],
  ['totalFee', '门诊总费用(分)', 'cn', 5],
  ['registrationFee', '挂号费(分)', 'cn', 4],
  ['consultationFee', '诊查费(分)', 'cn', 4],
  ['westernMedicineFee', '西药费(分)', 'cn', 4],
  ['chinesePatentMedicineFee', '中成药费(分)', 'cn', 4],
  ['chineseHerbalFee', '中草药费(分)', 'cn', 4],
  ['examinationFee', '检查费(分)', 'cn', 4],
  ['laboratoryFee', '化验费(分)', 'cn', 4],
  ['treatmentFee', '治疗费(分)', 'cn', 4],
  ['materialFee', '卫生材料费(分)', 'cn', 4],
  ['insurancePaidFee', '医保统筹支付(分)', 'cn', 4],
  ['selfPaidFee', '个人自付(分)', 'cn', 4],
  ['insuranceType', '医保类型', 'cn', 1],
  ['invoiceNo', '发票号', 'an', 20],
  ['visitOutcome', '就诊结局', 'cn', 1],
  ['followUpDate', '复诊日期', 'cn', 4],
  ['referralFlag', '转诊标志', 'cn', 1],
  ['referralInstitution', '转诊医疗机构', 'an', 50],
  ['sickLeaveDays', '病休天数', 'cn', 1],
  ['medicalAdvice', '医嘱', 'an', 100],
  ['recordStatus', '记录状态', 'cn', 1],
];

export const FIRST_INPATIENT_ITEM = 64;
export const FIRST_OUTPATIENT_ITEM = 213;
export const LAST_ITEM = 384;

/** Code-table items by number; every other item's type follows from its format, name and length. */
const CODED_ITEMS: Readonly<Record<number, ValueType>> = { 0x08: 'idNumber', 0x0c: 'sex', 0x0d: 'ethnicity', 0x0f: 'idNumber', 0x39: 'cityCode' };

function valueTypeOf(itemNo: number, field: string, format: ItemFormat, length: number): ValueType {
  const coded = CODED_ITEMS[itemNo];
  if (coded) return coded;
  if (format === 'b') return 'hex';
  if (format === 'cn') {
    if (length === 4 && /Date$/.test(field)) return 'date';
    if (length === 7 && /DateTime$/.test(field)) return 'dateTime';
    return 'digits';
  }
  return /phone\d?$/i.test(field) ? 'phone' : 'text';
}

function buildCatalogue(): DataItem[] {
  type Row = Omit<DataItem, 'valueType'>;
  const rows: Row[] = TLV_ITEMS.map(([itemNo, field, nameZh, file, format]) => ({
    itemNo, field, nameZh, file, format, length: TLV_ITEM_LENGTHS[itemNo], tag: itemNo,
  }));
  rows.push(
    { itemNo: 58, field: 'allergySubstance', nameZh: '过敏物质名称', file: 'DF02/EF07', format: 'an', length: 20, offset: 0 },
    { itemNo: 59, field: 'allergyReaction', nameZh: '过敏反应', file: 'DF02/EF07', format: 'an', length: 100, offset: 20 },
    { itemNo: 60, field: 'vaccineName', nameZh: '免疫接种名称', file: 'DF02/EF08', format: 'an', length: 20, offset: 0 },
    { itemNo: 61, field: 'vaccinationDate', nameZh: '免疫接种日期', file: 'DF02/EF08', format: 'cn', length: 4, offset: 20 },
    { itemNo: 62, field: 'inpatientIndexFlag', nameZh: '住院信息索引标志', file: 'DF03/EF05', format: 'b', length: 1, offset: 0 },
    { itemNo: 63, field: 'outpatientIndexFlag', nameZh: '门诊信息索引标志', file: 'DF03/EF06', format: 'b', length: 1, offset: 0 },
  );
  const addLayout = (layout: readonly LayoutRow[], file: ItemFile, first: number): void => {
    let offset = 0;
    layout.forEach(([field, nameZh, format, length], i) => {
      rows.push({ itemNo: first + i, field, nameZh, file, format, length, offset });
      offset += length;
    });
  };
  addLayout(INPATIENT_LAYOUT, 'DF03/EE', FIRST_INPATIENT_ITEM);
  addLayout(OUTPATIENT_LAYOUT, 'DF03/ED', FIRST_OUTPATIENT_ITEM);
  return rows.map((r) => ({ ...r, valueType: valueTypeOf(r.itemNo, r.field, r.format, r.length) }));
}

/** Every data item 1–384, ordered by item number. */
export const DATA_ITEMS: readonly DataItem[] = Object.freeze(buildCatalogue());

const BY_NUMBER = new Map(DATA_ITEMS.map((d) => [d.itemNo, d]));

export function dataItem(itemNo: number): DataItem {
  const d = BY_NUMBER.get(itemNo);
  if (!d) throw new RangeError(`no data item ${itemNo} (valid: 1–${LAST_ITEM})`);
  return d;
}

export function isItemNumber(n: number): boolean {
  return BY_NUMBER.has(n);
}

/** The items stored in a file or file group, in layout order (TLV files: record order). */
export function itemsOfFile(file: ItemFile): DataItem[] {
  return DATA_ITEMS.filter((d) => d.file === file);
}

/** The layout group of a visit file (EE02 → 'DF03/EE'); other files map to themselves. */
export function itemFileOf(file: FileId): ItemFile {
  if (/^DF03\/EE0\d$/.test(file)) return 'DF03/EE';
  if (/^DF03\/ED0\d$/.test(file)) return 'DF03/ED';
  return file;
}

/** Visit file tails (after the data area). */
export const VISIT_TAIL = {
  inpatient: { signatureOffset: INPATIENT_DATA_LENGTH, certificateOffset: INPATIENT_DATA_LENGTH + VISIT_SIGNATURE_LENGTH },
  outpatient: { signatureOffset: OUTPATIENT_DATA_LENGTH, certificateOffset: OUTPATIENT_DATA_LENGTH + VISIT_SIGNATURE_LENGTH },
  signatureLength: VISIT_SIGNATURE_LENGTH,
  certificateLength: VISIT_CERTIFICATE_LENGTH,
} as const;

/** Item values keyed by item number, in the hospital-API string form; null = unwritten (FF). */
export type ItemValues = Record<number, string | null>;

/**
 * A card's content as item values, the exchange format between the simulator's generator
 * (firmware-sim/personalisation HealthCardProfile has the same shape plus card8/keys), the writer and
 * tests. Values are strings exactly as the hospital API prints them (an → text, cn → digits without F,
 * b → uppercase hex) or null when unwritten.
 */
export interface CardProfile {
  /** Items 1–57. */
  items: ItemValues;
  /** Photo bytes (without the 2-byte length prefix) as base64; null/absent = no photo. */
  photo?: string | null;
  /** Newest first, ≤ 3; keyed by items 58/59. */
  allergies?: ItemValues[];
  /** Newest first, ≤ 10; keyed by items 60/61. */
  immunisations?: ItemValues[];
  /** EE01–EE03 (index 0 = EE01): items 64–212, or null when the index flag is FF. */
  inpatient?: Array<ItemValues | null>;
  /** ED01–ED05: items 213–384, or null when the index flag is FF. */
  outpatient?: Array<ItemValues | null>;
}
