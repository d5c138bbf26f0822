import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.entities import EntityExtractor
from nlu.parser import Entity
from nlu.training_data import TrainingData


@pytest.fixture(scope="module")
def extractor(shipped: TrainingData) -> EntityExtractor:
    return EntityExtractor.from_training_data(shipped)


def found(extractor: EntityExtractor, text: str, kind: str) -> list[tuple[str, str]]:
    return [(e.text, e.value) for e in extractor.extract(text) if e.entity == kind]


@pytest.mark.parametrize(
    ("text", "span", "digits"),
    [
        ("回电话13812345678谢谢", "13812345678", "13812345678"),
        ("我的号码是138 1234 5678", "138 1234 5678", "13812345678"),
        ("电话：159-0000-1234", "159-0000-1234", "15900001234"),
        ("手机１３８１２３４５６７８", "１３８１２３４５６７８", "13812345678"),
    ],
)
def test_mobile_numbers_are_found_with_spaces_dashes_and_full_width_digits(
    extractor: EntityExtractor, text: str, span: str, digits: str
):
    assert found(extractor, text, "phone") == [(span, digits)]


def test_digits_that_are_not_a_mobile_number_are_not_a_phone(extractor: EntityExtractor):
    assert found(extractor, "座机02787654321", "phone") == []
    assert found(extractor, "卡号6213812345678901", "phone") == []
    assert found(extractor, "12345热线", "phone") == []


def test_case_numbers_are_found_and_a_missing_dash_is_repaired(extractor: EntityExtractor):
    assert found(extractor, "查一下20261124-000123", "case_no") == [
        ("20261124-000123", "20261124-000123")
    ]
    assert found(extractor, "工单20261124000123进度", "case_no") == [
        ("20261124000123", "20261124-000123")
    ]
    assert found(extractor, "工单号 20261124 - 000123", "phone") == []


def test_districts_come_from_the_lookup_table(extractor: EntityExtractor):
    assert found(extractor, "青山湖区和东湖区都有", "district") == [
        ("青山湖区", "青山湖区"),
        ("东湖区", "东湖区"),
    ]
    assert found(extractor, "我们小区停电了", "district") == []


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("明天来人搞卫生", "搞卫生", "保洁"),
        ("帮我约个修空调的", "修空调", "家电维修"),
        ("想找个月子保姆", "月子保姆", "月嫂"),
        ("要通马桶", "通马桶", "管道疏通"),
        ("下单深度保洁", "深度保洁", "深度保洁"),
        ("找个育儿嫂", "育儿嫂", "育儿嫂"),
    ],
)
def test_service_types_are_canonicalised_through_synonyms(
    extractor: EntityExtractor, text: str, span: str, value: str
):
    assert found(extractor, text, "service_type") == [(span, value)]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("幸福路88号的超市卖过期食品", "幸福路88号"),
        ("地址阳光花园3栋2单元501", "阳光花园3栋2单元501"),
        ("西湖区朝阳社区的书记", "朝阳社区"),
        ("我要举报建设路有人占道经营", "建设路"),
        ("幸福路和人民路交叉口水管爆了", "幸福路和人民路交叉口"),
        ("我家在中山北路18号", "中山北路18号"),
        ("金色家园5栋停水", "金色家园5栋"),
        # an estate name alone, and road + number + estate + building + room as one address
        ("阳光花园", "阳光花园"),
        ("幸福小区3栋", "幸福小区3栋"),
        ("我住在锦绣家园，家里停水了", "锦绣家园"),
        ("北京东路88号阳光花园3栋2单元501室", "北京东路88号阳光花园3栋2单元501室"),
        ("地址是北京东路88号阳光花园3栋501，下水道堵了", "北京东路88号阳光花园3栋501"),
        ("在幸福里小区5号楼", "幸福里小区5号楼"),
        ("万科新城5栋电梯坏了", "万科新城5栋"),
        # an estate name with no place suffix, known by the building number after it
        ("住在阳光城3栋2单元501", "阳光城3栋2单元501"),
        ("保利香槟国际12栋", "保利香槟国际12栋"),
        ("丰和大道1288号万达星城5栋1203", "丰和大道1288号万达星城5栋1203"),
        ("建设路 幸福小区", "建设路 幸福小区"),
        # places named by a number, and a station on its own
        ("我爸在市一医院骨科住院", "市一医院"),
        ("在第三人民医院住院", "第三人民医院"),
        ("八一广场那边", "八一广场"),
        ("昨晚从火车站打的车", "火车站"),
        # district, then road: the characters between them name the road
        ("青云谱区洪都中大道那个广场", "洪都中大道"),
        ("新建区长堎大道公交站边上", "长堎大道"),
        # …found by two rules, still one address; a town before the road
        ("东湖区八一大道168号锦江小区5栋2单元301", "八一大道168号锦江小区5栋2单元301"),
        ("南昌县莲塘镇澄湖北大道66号", "澄湖北大道66号"),
    ],
)
def test_addresses_are_found_by_pattern(extractor: EntityExtractor, text: str, address: str):
    assert [t for t, _ in found(extractor, text, "address")] == [address]


@pytest.mark.parametrize(
    "text",
    [
        *("我们小区停电了", "楼道灯不亮", "出租车司机绕路还骂人", "希望公园多装几个路灯"),
        *("整条街停电", "区政府门口", "我要去台湾旅游", "我们村里的路灯坏了"),
        *("我住在3栋", "那个5栋漏水", "今天下午5栋的电梯", "青山湖区那条路"),
        "她耳朵背又走不动路",
        "我们社区门口那条路坏了",
    ],
)
def test_places_without_a_name_are_not_addresses(extractor: EntityExtractor, text: str):
    assert found(extractor, text, "address") == []


@pytest.mark.parametrize(
    ("text", "times"),
    [
        ("明天上午帮我安排一个保洁", ["明天上午"]),
        ("下周三下午3点能来吗", ["下周三下午3点"]),
        ("约3点", ["3点"]),
        ("今晚有人吗", ["今晚"]),
        ("我三天前打的电话", ["三天前"]),
        ("预约这周末的", ["这周末"]),
    ],
)
def test_time_expressions_are_found(extractor: EntityExtractor, text: str, times: list[str]):
    assert [t for t, _ in found(extractor, text, "time")] == times


@pytest.mark.parametrize("text", ["晚上好啊", "建议末班车晚一点", "给1分", "5分"])
def test_greetings_and_small_numbers_are_not_times(extractor: EntityExtractor, text: str):
    assert found(extractor, text, "time") == []


def test_one_message_yields_every_kind_in_text_order(extractor: EntityExtractor):
    text = "西湖区幸福小区明天下午需要通下水道，电话13812340001"
    assert [(e.entity, e.value) for e in extractor.extract(text)] == [
        ("district", "西湖区"),
        ("address", "幸福小区"),
        ("time", "明天下午"),
        ("service_type", "管道疏通"),
        ("phone", "13812340001"),
    ]


def test_annotated_training_entities_are_recovered(
    extractor: EntityExtractor, shipped: TrainingData
):
    gold = [(ex, e) for ex in shipped.examples for e in ex.entities]
    hits = sum(
        any(
            p.entity == e.entity and (p.start, p.end) == (e.start, e.end)
            for p in extractor.extract(ex.text)
        )
        for ex, e in gold
    )
    assert hits / len(gold) >= 0.95


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("0123456789 -路号栋区县小区保洁明天下午点周三我在家的和")),
        max_size=40,
    )
)
def test_entities_always_point_at_their_text(text: str):
    extractor = EntityExtractor.from_training_data(
        TrainingData(lookups={"district": ("东湖区",), "service_type": ("保洁",)})
    )
    entities = extractor.extract(text)
    assert all(isinstance(e, Entity) and text[e.start : e.end] == e.text for e in entities)
    spans = sorted((e.start, e.end) for e in entities)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
