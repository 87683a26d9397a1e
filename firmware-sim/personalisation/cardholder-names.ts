// Common Chinese surnames and given-name characters (all in GBK) for synthetic cardholders.

export const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤'.split('');

export const GIVEN_MALE = '伟强磊军洋勇杰涛明超刚建文辉力鑫宇浩博轩泽瑞俊嘉峰斌波鹏飞健毅晨昊'.split('');
export const GIVEN_FEMALE = '芳娜敏静丽艳娟秀霞平桂英华玉萍红婷雪琳欣悦涵怡然佳梓雨思晓慧颖璐'.split('');
