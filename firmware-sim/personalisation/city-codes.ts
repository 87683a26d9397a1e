// Real GB/T 2260 prefecture-level codes across several provinces, each with a few of its real
// county-level (district) codes, which start the synthetic ID numbers of people born there.

export interface District {
  code: string;
  name: string;
}

export interface City {
  /** Prefecture-level code (the card's item 57). */
  code: string;
  name: string;
  province: string;
  districts: readonly District[];
  /** A street name of the city for synthetic addresses. */
  streets: readonly string[];
}

export const CITIES: readonly City[] = [
  { code: '110100', name: '北京市', province: '北京市', districts: [{ code: '110101', name: '东城区' }, { code: '110102', name: '西城区' }, { code: '110105', name: '朝阳区' }, { code: '110108', name: '海淀区' }], streets: ['和平里街', '安定门外大街', '中关村大街', '建国路'] },
  { code: '120100', name: '天津市', province: '天津市', districts: [{ code: '120101', name: '和平区' }, { code: '120103', name: '河西区' }], streets: ['南京路', '友谊路'] },
  { code: '310100', name: '上海市', province: '上海市', districts: [{ code: '310101', name: '黄浦区' }, { code: '310104', name: '徐汇区' }, { code: '310115', name: '浦东新区' }], streets: ['淮海中路', '漕溪北路', '世纪大道'] },
  { code: '440100', name: '广州市', province: '广东省', districts: [{ code: '440103', name: '荔湾区' }, { code: '440104', name: '越秀区' }, { code: '440106', name: '天河区' }], streets: ['中山五路', '天河路', '环市东路'] },
  { code: '440300', name: '深圳市', province: '广东省', districts: [{ code: '440303', name: '罗湖区' }, { code: '440304', name: '福田区' }, { code: '440305', name: '南山区' }], streets: ['深南大道', '红岭中路', '科技园路'] },
  { code: '440600', name: '佛山市', province: '广东省', districts: [{ code: '440604', name: '禅城区' }, { code: '440606', name: '顺德区' }], streets: ['祖庙路', '大良街'] },
  { code: '510100', name: '成都市', province: '四川省', districts: [{ code: '510104', name: '锦江区' }, { code: '510107', name: '武侯区' }], streets: ['春熙路', '人民南路'] },
  { code: '330100', name: '杭州市', province: '浙江省', districts: [{ code: '330102', name: '上城区' }, { code: '330106', name: '西湖区' }], streets: ['延安路', '文三路'] },
  { code: '320100', name: '南京市', province: '江苏省', districts: [{ code: '320102', name: '玄武区' }, { code: '320106', name: '鼓楼区' }], streets: ['中山路', '北京西路'] },
  { code: '420100', name: '武汉市', province: '湖北省', districts: [{ code: '420102', name: '江岸区' }, { code: '420106', name: '武昌区' }], streets: ['解放大道', '中南路'] },
  { code: '610100', name: '西安市', province: '陕西省', districts: [{ code: '610102', name: '新城区' }, { code: '610113', name: '雁塔区' }], streets: ['东大街', '长安南路'] },
  { code: '370200', name: '青岛市', province: '山东省', districts: [{ code: '370202', name: '市南区' }, { code: '370203', name: '市北区' }], streets: ['香港中路', '辽宁路'] },
  { code: '500100', name: '重庆市', province: '重庆市', districts: [{ code: '500103', name: '渝中区' }, { code: '500105', name: '江北区' }], streets: ['解放碑步行街', '建新北路'] },
  { code: '350200', name: '厦门市', province: '福建省', districts: [{ code: '350203', name: '思明区' }, { code: '350206', name: '湖里区' }], streets: ['中山路', '湖滨南路'] },
];

export function citiesOfProvince(province: string): City[] {
  return CITIES.filter((c) => c.code.startsWith(province));
}
