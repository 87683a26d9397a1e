// The texts of the front-desk page: Chinese (the default and the reference: its keys are the page's
// TextKey) and English; the Chinese of QR result codes and QR warnings.
import type { QrResultCode } from './api-shapes.ts';

export type TextKey = keyof typeof zh;

export const zh = {
  'title': '健康卡前台',
  'conn.connecting': '正在连接…', 'conn.live': '已连接', 'conn.down': '连接中断，正在重连…',
  'card.title': '居民健康卡', 'card.insert': '请插入健康卡', 'card.reading': '正在读卡…', 'card.read': '读卡完成',
  'card.removed': '卡已拔出', 'card.nophoto': '无照片', 'card.name': '姓名', 'card.sex': '性别', 'card.birth': '出生日期',
  'card.id': '身份证号', 'card.number': '卡号', 'card.partial': '只读到卡号：持卡人信息需要 SAM 授权', 'card.readPartial': '部分读取：只读到卡片信息',
  'card.cleared.idle': '长时间无操作，已隐藏持卡人信息', 'card.cleared.offline': '读卡器离线，已清除持卡人信息',
  'card.cleared.disconnected': '与 Yika 服务的连接中断，已清除持卡人信息', 'card.reread': '重新读卡',
  'banner.disconnected': '与 Yika 服务的连接已断开：持卡人信息和扫码结果已清除，正在重连…',
  'error.unknown': '发生未知错误，请重试；如反复出现，请运行 yika doctor。', 'card.reveal': '显示', 'card.hide': '隐藏', 'card.failed': '读卡失败',
  'card.removedDuringRead': '读卡过程中卡被拔出，请重新插卡。', 'card.readIn': '用时 {ms} 毫秒 · 读卡器 {reader}',
  'sex.0': '未知', 'sex.1': '男', 'sex.2': '女', 'sex.9': '未说明',
  'qr.title': '电子健康卡二维码', 'qr.waiting': '等待扫码', 'qr.valid': '有效', 'qr.invalid': '无效', 'qr.online': '需在线核验',
  'qr.input': '扫码枪输入', 'qr.verify': '验证', 'qr.verifying': '正在验证…',
  'qr.bundleAge': '信任列表更新于 {age}前', 'qr.noBundle': '未安装信任列表', 'qr.type.dynamic': '动态码', 'qr.type.static': '静态码',
  'qr.kind.ehc-online': '国家电子健康卡（在线码）', 'qr.kind.insurance': '医保电子凭证', 'qr.kind.payment': '{scheme}付款码',
  'qr.kind.id-number': '身份证号', 'qr.kind.unknown': '无法识别的二维码',
  'qr.do.ehc-online': '请通过国家平台在线核验', 'qr.do.insurance': '请在医保结算环节使用（本机不保存）', 'qr.do.payment': '仅用于收费，请在收费环节扫码（本机不保存）',
  'qr.do.id-number': '请按身份证号查找患者，或请患者出示电子健康卡', 'qr.do.unknown': '请患者出示电子健康卡',
  'qr.sep': '：', 'qr.validStatic': '有效（静态码，需核验）',
  'qr.check.id-card': '静态码：请核对患者身份证后再接受（本机不记录）', 'qr.check.password': '静态码：请患者输入健康卡密码后再接受（本机不记录）',
  'qr.check.sms': '静态码：请核对发送给患者的短信验证码后再接受（本机不记录）', 'qr.scheme.wechat': '微信', 'qr.scheme.alipay': '支付宝', 'qr.scheme.unionpay': '银联',
  'qr.expires': '有效期至 {time}', 'qr.cached': '（缓存）', 'qr.failed': '无法验证',
  'readers.title': '读卡器', 'readers.none': '未发现读卡器',
  'readers.check1': '检查读卡器的 USB 线是否插好，电源灯是否亮起。',
  'readers.check2': 'PC/SC 读卡器：确认 pcscd 服务正在运行。',
  'readers.check3': '串口读卡器：确认配置的端口正确，且当前用户有权限（dialout 组）。',
  'readers.check4': '运行 yika doctor 查看详细诊断和修复方法。',
  'readers.unreachable': '无法连接 Yika 服务，请确认 yikad 正在运行。',
  'health.ok': '正常', 'health.degraded': '降级', 'health.offline': '离线',
  'slot.absent': '无卡', 'slot.present': '有卡', 'slot.powered': '已上电', 'slot.mute': '卡无响应',
  'slot.contact': '接触式卡座', 'slot.contactless': '非接触', 'slot.sam': 'SAM', 'slot.samN': 'SAM{n}',
  'events.title': '最近事件',
  'ev.reader.attached': '读卡器接入：{name}', 'ev.reader.detached': '读卡器断开 {reason}', 'ev.reader.health': '读卡器状态：{health} {detail}',
  'ev.card.inserted': '插卡（{slot}）', 'ev.card.removed': '拔卡（{slot}）', 'ev.qr.scanned': '扫码：{code}',
  'ev.resumeGap': '连接中断期间有事件丢失，已刷新状态',
  'ev.write.interrupted': '写卡被中断（卡槽 {slot}，守护进程中途停止）：请读回卡片核对，再确认',
  'daemon.status': '服务 {version} · {status}', 'daemon.degraded': '注意：{items}', 'daemon.down': '服务连接中断',
  'foot.docs': '接口文档', 'age.s': '{n} 秒', 'age.m': '{n} 分钟', 'age.h': '{n} 小时', 'age.d': '{n} 天',
} as const;

/** The English page: every key of the Chinese one (typecheck fails on a missing text). */
export const en: Record<TextKey, string> = {
  'title': 'Health card front desk',
  'conn.connecting': 'Connecting…', 'conn.live': 'Connected', 'conn.down': 'Connection lost, reconnecting…',
  'card.title': 'Resident Health Card', 'card.insert': 'Insert a health card', 'card.reading': 'Reading the card…', 'card.read': 'Card read',
  'card.removed': 'Card removed', 'card.nophoto': 'No photo', 'card.name': 'Name', 'card.sex': 'Sex', 'card.birth': 'Date of birth',
  'card.id': 'ID number', 'card.number': 'Card number', 'card.partial': 'Card number only: the cardholder files need SAM authorization', 'card.readPartial': 'Partly read: card data only',
  'card.cleared.idle': 'Cardholder hidden after a period without activity', 'card.cleared.offline': 'The reader is offline: cardholder cleared',
  'card.cleared.disconnected': 'Connection to the Yika service lost: cardholder cleared', 'card.reread': 'Read again',
  'banner.disconnected': 'Connection to the Yika service lost: cardholder and QR verdict cleared; reconnecting…',
  'error.unknown': 'Unexpected error: try again; if it persists, run yika doctor.', 'card.reveal': 'Show', 'card.hide': 'Hide', 'card.failed': 'Card read failed',
  'card.removedDuringRead': 'The card was removed while it was being read: insert it again.', 'card.readIn': 'Read in {ms} ms · reader {reader}',
  'sex.0': 'Unknown', 'sex.1': 'Male', 'sex.2': 'Female', 'sex.9': 'Not stated',
  'qr.title': 'Electronic Health Card QR code', 'qr.waiting': 'Waiting for a scan', 'qr.valid': 'Valid', 'qr.invalid': 'Not valid', 'qr.online': 'Check online',
  'qr.input': 'Scanner input', 'qr.verify': 'Verify', 'qr.verifying': 'Verifying…',
  'qr.bundleAge': 'Trust list updated {age} ago', 'qr.noBundle': 'No trust list installed', 'qr.type.dynamic': 'dynamic code', 'qr.type.static': 'static code',
  'qr.kind.ehc-online': 'National health card (online code)', 'qr.kind.insurance': 'Medical-insurance voucher', 'qr.kind.payment': '{scheme} payment code',
  'qr.kind.id-number': 'Resident ID number', 'qr.kind.unknown': 'Unrecognised code',
  'qr.do.ehc-online': ' check it online with the national platform', 'qr.do.insurance': ' use it at the insurance step (not kept here)', 'qr.do.payment': ' for payment only: scan it at the payment step (not kept here)',
  'qr.do.id-number': ' find the patient by ID number, or ask for the health card', 'qr.do.unknown': ' ask the patient for the health card',
  'qr.sep': ':', 'qr.validStatic': 'Valid (static code: check needed)',
  'qr.check.id-card': 'Static code: check the patient\'s ID card before accepting (nothing is recorded)', 'qr.check.password': 'Static code: ask for the health card password before accepting (nothing is recorded)',
  'qr.check.sms': 'Static code: check the SMS code sent to the patient before accepting (nothing is recorded)', 'qr.scheme.wechat': 'WeChat Pay', 'qr.scheme.alipay': 'Alipay', 'qr.scheme.unionpay': 'UnionPay',
  'qr.expires': 'valid until {time}', 'qr.cached': '(cached)', 'qr.failed': 'Cannot verify',
  'readers.title': 'Readers', 'readers.none': 'No reader found',
  'readers.check1': "Check that the reader's USB cable is plugged in and its power light is on.",
  'readers.check2': 'PC/SC readers: make sure the pcscd service is running.',
  'readers.check3': 'Serial readers: check the configured port and that this user may open it (dialout group).',
  'readers.check4': 'Run yika doctor for a full diagnosis and how to fix each problem.',
  'readers.unreachable': 'Cannot reach the Yika service: make sure yikad is running.',
  'health.ok': 'ok', 'health.degraded': 'degraded', 'health.offline': 'offline',
  'slot.absent': 'empty', 'slot.present': 'card', 'slot.powered': 'powered', 'slot.mute': 'card not answering',
  'slot.contact': 'contact', 'slot.contactless': 'contactless', 'slot.sam': 'SAM', 'slot.samN': 'SAM{n}',
  'events.title': 'Recent events',
  'ev.reader.attached': 'Reader attached: {name}', 'ev.reader.detached': 'Reader detached {reason}', 'ev.reader.health': 'Reader {health} {detail}',
  'ev.card.inserted': 'Card inserted ({slot})', 'ev.card.removed': 'Card removed ({slot})', 'ev.qr.scanned': 'QR scanned: {code}',
  'ev.resumeGap': 'Events were missed while disconnected; state refreshed',
  'ev.write.interrupted': 'Card write interrupted (slot {slot}, the daemon stopped mid-write): read the card back, then acknowledge',
  'daemon.status': 'Service {version} · {status}', 'daemon.degraded': 'Attention: {items}', 'daemon.down': 'Service connection lost',
  'foot.docs': 'API docs', 'age.s': '{n} s', 'age.m': '{n} min', 'age.h': '{n} h', 'age.d': '{n} days',
};

/** QR result codes in Chinese (the daemon's messages are English). */
export const qrZh: Record<QrResultCode, string> = {
  TOO_LONG: '内容过长，不是健康码。', NOT_EHC1: '不是电子健康卡二维码。', LEGACY_ONLINE_ONLY: '旧版健康码，只能在线核验。',
  BAD_CHARSET: '二维码含有非法字符，请重新扫码。', BAD_ENCODING: '二维码内容损坏或不完整，请重新扫码。', TOO_SHORT: '二维码内容不完整，请重新扫码。',
  UNSUPPORTED_VERSION: '不支持的健康码版本，请升级 Yika。', NO_TRUSTLIST: '尚未安装信任列表，无法离线验证。',
  TRUSTLIST_EXPIRED: '信任列表已过期，请先更新。', UNKNOWN_KID: '签发密钥未知：请更新信任列表或在线核验。',
  KEY_REVOKED: '签发密钥已被吊销，请勿接受。', TYPE_NOT_ALLOWED: '该密钥不允许签发此类健康码，请勿接受。',
  BAD_PAYLOAD: '健康码内容格式错误，请勿接受。', BAD_SIGNATURE: '签名不符：健康码被伪造或篡改，请勿接受。',
  KEY_NOT_VALID_AT_IAT: '签发时间不在密钥有效期内，请勿接受。', KEY_EXPIRED: '签发密钥已停用，请患者获取新码。',
  NOT_YET_VALID: '健康码签发时间在未来：请检查本机时间，或请患者刷新。', EXPIRED: '健康码已过期，请患者刷新。',
  CARD_REVOKED: '该健康卡已注销或换发，请勿接受。', REPLAYED: '该动态码已被使用过（截图？），请患者刷新。',
  REPLAY_STORE_UNAVAILABLE: '共享防重放存储不可用，请稍后重试。', VALID: '有效的电子健康卡。',
};

/** QR verdict warnings (result.warnings). */
export const warnZh: Record<string, string> = {
  TRUSTLIST_STALE: '信任列表超过 24 小时未更新', TRUSTLIST_EXPIRED: '信任列表已过期', SHARED_STORE_DOWN: '共享存储不可用，仅本机防重放',
  CLOCK_SKEW_SUSPECTED: '疑似时钟偏差',
};
export const warnEn: Record<string, string> = {
  TRUSTLIST_STALE: 'trust list older than 24 h', TRUSTLIST_EXPIRED: 'trust list expired', SHARED_STORE_DOWN: 'shared store down: replay checked at this desk only',
  CLOCK_SKEW_SUSPECTED: 'clock skew suspected',
  };
