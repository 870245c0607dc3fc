"""The aligned comparison (claims/compare.py) and the text layer on sentences from several subjects:
what embeddings and word overlap call "the same sentence"."""
from __future__ import annotations

import pytest

from assistant.claims.compare import absent_names, conflicts, missing_amounts
from assistant.text import speaker_of


@pytest.mark.parametrize("claim,source,kind", [
    ("Apple reported revenue of $80 billion.", "Apple reported revenue of $90 billion.", "money"),
    ("The bank agreed to forfeit $50 million.", "The bank agreed to forfeit $500 million to the United States.", "money"),
    ("Sales fell 12% in March.", "Sales rose 12% in March.", "opposite"),
    ("Consumer prices fell two-tenths of a percent.", "Consumer prices rose two-tenths of a percent.", "opposite"),
    ("The forecast ranges were well below the seasonal average.", "These ranges are well above the seasonal average.",
     "opposite"),
    ("Liverpool beat Arsenal 3-1 on Sunday.", "Arsenal beat Liverpool 3-1 on Sunday.", "roles"),
    ("Chelsea won 2-0 against Spurs.", "Chelsea won 3-1 against Spurs.", "score"),
    ("Beijing does not welcome dialogue with Washington.", "China welcomes dialogue with Washington.", "negation"),
    ("The Geneva-based IMF projects three percent growth.", "The Washington-based agency projects three percent growth.",
     "place"),
    ("In the women's final, Maddalena took gold.", "Maddalena won the silver medal in the final.", "rank"),
    ("Smith won the bronze medal in the 400m.", "Smith took gold in the 400m.", "rank"),
    ("Maria Lopez of the World Bank said growth would slow.",
     "Maria Lopez, an economist, and Tom Reed of the World Bank said growth would slow.", "roles"),
    ("Crew-1 carried Shannon Walker of the Japan Aerospace Exploration Agency along with astronaut Soichi Noguchi.",
     "It was a picture perfect launch, as NASA astronauts Michael Hopkins, Victor Glover, and Shannon Walker, and "
     "Soichi Noguchi of the Japan Aerospace Exploration Agency (JAXA) blasted off from Kennedy Space Center.", "roles"),
    ("Obama said he would sign the sanctions bill.", "Obama said he would veto the sanctions bill.", "opposite"),
])
def test_a_changed_part_is_a_conflict(claim, source, kind):
    found = conflicts(claim, source, source)
    assert any(f.startswith(kind) for f in found), found


@pytest.mark.parametrize("claim,source", [
    ("Apple reported revenue of $90 billion.", "Apple reported revenue of $90 billion, up 12%."),
    ("Liverpool beat Arsenal 3-1.", "Liverpool beat Arsenal 3-1 at Anfield."),
    ("The bridge reopened on Tuesday.", "The bridge reopened on Tuesday after repairs."),
    ("The US does not see NATO membership as realistic.", "The US does not see NATO membership for Kyiv as realistic."),
    ("Trump and Putin met in Alaska.", "The summit is taking place in Anchorage, Alaska."),
    # "not ... until" says when it happened, not that it did not
    ("The firm did not turn a profit until 2019.", "The firm turned a profit in 2019."),
    ("She did not take up the sport until she was in college.", "She took up the sport in college."),
    ("Smith won the bronze medal in the 400m.", "Smith took bronze in the 400m final."),
    ("Noguchi of the Japan Aerospace Exploration Agency flew with Walker.",
     "Shannon Walker and Soichi Noguchi of the Japan Aerospace Exploration Agency (JAXA) flew."),
])
def test_the_same_facts_are_no_conflict(claim, source):
    assert conflicts(claim, source, source) == []


def test_amounts_must_be_stated_but_dates_and_names_need_not():
    assert missing_amounts("About 14,000 firefighters battled 25 wildfires in September 2020.",
                           "About 14,000 firefighters are battling 25 wildfires.") == []
    assert missing_amounts("Novartis agreed to pay $72.5 million.", "Novartis agreed to a settlement.") == ["$72.5 million"]


def test_a_claim_naming_what_the_article_never_mentions_is_about_another_event():
    article = "NOAA predicts an active 2013 Atlantic hurricane season with 13 to 20 named storms."
    assert absent_names("NOAA predicted 17 to 25 named storms for the 2024 season.", article)
    assert not absent_names("NOAA predicted 13 to 20 named storms for the 2013 season.", article)


@pytest.mark.parametrize("sentence,who", [
    ("Revenue rose 8%, said Tim Cook, Apple's chief executive.", "cook"),
    ("\"We will appeal,\" Judge Maria Lopez told the court.", "lopez"),
    ("According to the Labor Department, prices rose 0.1 percent.", "department"),
    ("Officials said the storm weakened overnight.", "official"),
    ("The coach said the team would recover.", "?"),
    ("He was asked about the transfer fee.", None),
])
def test_who_is_speaking_is_read_from_the_parse(sentence, who):
    assert speaker_of(sentence) == who


# ---------------------------------------------------------------- slots, speakers and clause splits

@pytest.mark.parametrize("claim,source,article", [
    # the claim's place is named elsewhere in the article, but this sentence puts the event somewhere else
    ("Flames destroyed a fire station in the Sierra National Forest.",
     "Flames destroyed a fire station in the Los Padres National Forest.",
     "Crews also worked in the Sierra National Forest."),
    ("The final was played at Wembley Stadium.", "The final was played at Old Trafford.",
     "Wembley Stadium hosted the semi-final."),
])
def test_a_place_in_the_same_slot_conflicts_even_when_the_article_names_the_other(claim, source, article):
    assert any(f.startswith("place") for f in conflicts(claim, source, article))


@pytest.mark.parametrize("claim,source", [
    ("The waters receded far more slowly than they had risen.", "The waters receded almost as fast as they had risen."),
    ("Shares recovered slowly after the announcement.", "Shares recovered quickly after the announcement."),
])
def test_adverbs_are_compared_by_their_adjective(claim, source):
    assert any(f.startswith("opposite") for f in conflicts(claim, source))


def test_designations_the_article_lacks_mark_another_event():
    article = "Four astronauts launched on the Crew-1 mission aboard a Falcon 9 rocket."
    assert "Crew-2" in absent_names("Four astronauts launched on the Crew-2 mission.", article)
    assert absent_names("Four astronauts launched on the Crew-1 mission.", article) == []
    assert "A350" in absent_names("The airline ordered 20 A350 jets.", "The airline ordered 20 A380 jets.")


@pytest.mark.parametrize("claim,speaker,content_start", [
    ('Ullah\'s attorney Mark Schamel said, "There has to be a consequence."', "schamel", '"There has'),
    ('Mark Wolfe of the National Energy Assistance Directors Association said: "Something is wrong."', "wolfe",
     '"Something'),
    ("Coach Jurgen Klopp of Liverpool said the team had played its best football of the season.", "klopp", "the team"),
])
def test_the_parse_finds_a_speaker_the_patterns_miss(claim, speaker, content_start):
    from assistant.stance import parse_attribution

    part = parse_attribution(claim)
    assert part.speaker == speaker and part.content.startswith(content_start), part


def test_and_between_two_nouns_does_not_split_a_claim():
    from assistant.stance import decompose

    assert len(decompose("A single mother said that after paying for gas and groceries she had nothing left "
                         "to pay her electricity bill")) == 1
    assert len(decompose("The company cut 500 jobs in Ohio and the union said it would appeal the decision")) == 2


@pytest.mark.parametrize("sentence,words", [
    ("The forecasters say they cannot predict if any storm will strike land.", {"forecaster"}),
    ("The ministry issued a statement saying Beijing welcomes dialogue.", {"ministry"}),
    ("Single mother, Julie Tkachuck, says she had no money left.", {"mother", "tkachuck"}),
])
def test_the_speaking_phrase_of_a_sentence(sentence, words):
    from assistant.text.annotate import speech_subject_words

    assert words <= speech_subject_words(sentence)


# ---------------------------------------------------------------- what a question asks for

@pytest.mark.parametrize("question,kind", [
    ("Which judge is handling the case?", "person"),
    ("Which striker scored the winner?", "person"),
    ("What official announced the recall?", "person"),
    ("Which company bought the startup?", "who"),
])
def test_which_person_noun_asks_for_a_person(question, kind):
    from assistant.text.question import analyse_question

    assert analyse_question(question).answer_type == kind


@pytest.mark.parametrize("sentence,question,attached", [
    ("Monday, the suspect was taken into custody.", "When is the suspect's trial scheduled to begin?", False),
    ("The trial is scheduled to begin on Monday.", "When is the suspect's trial scheduled to begin?", True),
    ("The two diplomats met in Geneva.", "How many metric tons of chemical weapons does Syria possess?", False),
    ("About 14,000 firefighters are battling 25 wildfires.", "How many firefighters were fighting the fires?", True),
    ("The bank reported profit of $4 billion in March.", "How much did the bank pay in fines?", False),
])
def test_the_asked_thing_must_hang_on_the_questions_words(sentence, question, attached):
    from assistant.answer.model import _attached, question_lemmas
    from assistant.text.question import analyse_question

    assert _attached(sentence, analyse_question(question).wants, question_lemmas(question)) is attached


def test_a_description_fits_the_person_whose_title_it_names():
    from assistant.text.question import analyse_question

    people = {"bridenstine": ("administrator", "nasa"), "lueders": ("associate", "administrator", "nasa"),
              "cook": ("chief", "executive"), "smith": ("coach",)}
    qi = analyse_question("What did the space agency's administrator say about the launch?")
    assert qi.speaker_head == "administrator"
    assert qi.describes(people, "bridenstine") and not qi.describes(people, "cook")
    qi = analyse_question("What did the company's chief executive say about sales?")
    assert qi.describes(people, "cook") and not qi.describes(people, "smith")


@pytest.mark.parametrize("claim,source,swapped", [
    ("China imposed tariffs on $34 billion of American goods.",
     "China and the United States have traded tariffs since Washington imposed tariffs on $34 billion of "
     "Chinese goods.", True),
    ("Smith passed the ball to Jones, who scored.", "Jones passed the ball to Smith, who scored.", True),
    ("Germany sold tanks to Poland.", "Poland bought tanks from Germany.", False),  # converse verbs agree
    ("Apple sold bonds to investors.", "Apple sold bonds to investors after the Fed raised rates.", False),
])
def test_another_name_in_the_same_slot_of_the_same_verb(claim, source, swapped):
    assert any(f.startswith("roles") for f in conflicts(claim, source)) is swapped


def test_transcript_turns_give_their_speaker_to_what_follows():
    from assistant.text.annotate import analyse_article

    info = analyse_article([
        "Via Teleconference\n11:02 A.M. EST\nACTING ADMINISTRATOR SLAVITT: Thank you for joining us.",
        "We are vaccinating 2.2 million Americans a day.",
        "Q: What about schools?",
        "COACH MILLER: We played our best football in the second half.",
        "The defence held firm.",
    ])
    speakers = [s.speaker for row in info.paragraphs for s in row]
    assert speakers[-4] == "slavitt" and speakers[-3] is None and speakers[-2:] == ["miller", "miller"]
    assert {"acting", "administrator"} <= set(info.people["slavitt"])
    # one "Note:" line does not make an article a transcript
    plain = analyse_article(["Please Note: prices may change.", "Shares rose 5% on Monday."])
    assert all(s.speaker is None for row in plain.paragraphs for s in row)


@pytest.mark.parametrize("question", ["What was the title of the book the official billed the agency for?",
                                      "What is the name of the new report on inflation?",
                                      "What film did she direct last year?"])
def test_a_works_title_is_asked_for_as_a_work_of_art(question):
    from assistant.text.question import analyse_question

    assert analyse_question(question).wants == frozenset({"WORK_OF_ART"})


@pytest.mark.parametrize("question,parts", [
    ("How many of the astronauts were American, and which country did the fourth come from?",
     ["How many of the astronauts were American?", "Which country did the fourth come from?"]),
    ("Whom did the sevens team beat for bronze, and by what score?",
     ["Whom did the sevens team beat for bronze?", "By what score?"]),
    ("What is the IMF's growth forecast for 2015, and what does it expect for 2016?",
     ["What is the IMF's growth forecast for 2015?", "What does it expect for 2016?"]),
    ("What did the bank and its regulator agree?", ["What did the bank and its regulator agree?"]),
    ("Which Russian and Chinese firms were sanctioned?", ["Which Russian and Chinese firms were sanctioned?"]),
])
def test_two_part_questions_are_split_at_the_second_question_word(question, parts):
    from assistant.text.question import question_parts

    assert question_parts(question) == parts


@pytest.mark.parametrize("claim,source,conflict", [
    ("The daily vaccination pace had dropped since January.", "We vaccinate 2.2 million a day, up from 900,000 in January.", True),
    ("The judge gave a lighter sentence than the agreed term.", "The judge said a higher sentence was warranted.", True),
    ("Quarterly profit shrank at the carmaker.", "Quarterly profit grew at the carmaker.", True),
    ("Exports grew 5 percent last year.", "Exports grew 5 percent last year, more than expected.", False),
    ("Unemployment fell to 4 percent.", "Unemployment fell to 4 percent, lower than forecast.", False),
    ("Prices did not rise in May.", "Prices fell in May.", False),
])
def test_opposite_directions_conflict(claim, source, conflict):
    found = conflicts(claim, source)
    assert any(f.startswith(("direction", "opposite")) for f in found) is conflict, found


def test_an_ed_adjective_is_not_a_done_deed():
    from assistant.stance import unrealised_in_source

    src = "The program will invest $9 billion to help small and minority-owned businesses."
    assert not unrealised_in_source("The program is meant to help minority-owned businesses", src, {"help", "busi"})
    assert unrealised_in_source("The club signed the striker", "The club will sign the striker next week.",
                                {"sign", "striker"})


@pytest.mark.parametrize("claim,source,conflict", [
    ("The rocket launched in October 2020.", "The rocket launched on Nov. 15, 2020, from Florida.", True),
    ("The jury delivered its verdict in January.", "The jury delivered its verdict in March after a trial.", True),
    ("Prices rose in May.", "Prices rose in June, the agency said.", True),
    ("The company announced the merger in 2019.", "The company announced the merger in 2021.", True),
    ("The match was played on Saturday.", "The match was played on Saturday evening before 60,000 fans.", False),
    ("The law was signed on March 11, 2021.", "The law was signed on March 11.", False),
    ("The company was founded in 1998.", "The company, founded in 1998, reported profits in 2021.", False),
])
def test_dates_in_the_same_slot_are_compared_part_by_part(claim, source, conflict):
    assert any(f.startswith("date") for f in conflicts(claim, source, source)) is conflict


def test_a_common_noun_speaker_is_found_in_its_sentence():
    from assistant.stance import decompose, judge

    part = decompose("The ministry said exports rose 5 percent.")[0]
    assert judge(part, "Exports rose 5 percent in March, the ministry said.", 0.8).stance == "supports"


def test_no_object_is_a_negated_verb():
    # "found no evidence" says what "did not find any evidence" says; "had nothing left" ~ "had no money left"
    assert not any(f.startswith("negation") for f in conflicts(
        "Scientists found no evidence of life.", "The team did not find any evidence of life."))
    assert any(f.startswith("negation") for f in conflicts(
        "Scientists found evidence of life.", "The team did not find any evidence of life."))


@pytest.mark.parametrize("claim,source,conflict", [
    ("The Friday talks on the weapons program were unproductive.", "The two ministers had constructive talks Friday on the weapons program.", True),
    ("Relations between the two clubs were hostile.", "The two clubs enjoyed friendly relations.", True),
    ("The talks were constructive.", "The talks were constructive and long.", False),
    ("The talks were not productive.", "The talks were constructive.", False),  # negated: left to the negation rules
])
def test_the_same_thing_called_good_and_bad_conflicts(claim, source, conflict):
    assert any(f.startswith("opposite") for f in conflicts(claim, source)) is conflict


@pytest.mark.parametrize("claim,source,conflict", [
    ("Fewer than 100 people attended the rally.", "Only about 80 people turned out for the rally.", False),
    ("Nearly 1,000 homes were destroyed.", "About 990 homes were destroyed.", False),
    ("More than 500 people attended.", "About 300 people attended.", True),
    ("Apple reported revenue of $80 billion.", "Apple reported revenue of $90 billion.", True),
])
def test_hedged_amounts_conflict_only_when_no_value_fits_both(claim, source, conflict):
    assert bool(conflicts(claim, source, source)) is conflict


def test_a_hedged_amount_is_not_a_stated_one_for_support():
    assert missing_amounts("Nearly 1.2 million hectares burned.", "More than 890,000 hectares burned.")


@pytest.mark.parametrize("question,people,who", [
    # a synonym of the title (chief ~ administrator), several subjects
    ("What did the agency's chief say about the storm season?",
     {"sullivan": ("acting", "administrator", "noaa"), "bell": ("forecaster", "lead")}, "sullivan"),
    ("According to America's top diplomat, where will the weapons be destroyed?",
     {"kerry": ("american", "secretary", "state"), "lavrov": ("foreign", "minister", "russian")}, "kerry"),
    ("What did the club's manager say after the defeat?",
     {"smith": ("coach", "head"), "jones": ("striker",)}, "smith"),
    ("What did the head of the bank's research unit say about rates?",
     {"lee": ("director", "research", "unit", "bank"), "kim": ("trader",)}, "lee"),
])
def test_a_description_finds_the_person_by_a_synonymous_title(question, people, who):
    from assistant.text.question import analyse_question

    q = analyse_question(question)
    assert [k for k in people if q.describes(people, k)] == [who]


@pytest.mark.parametrize("question", ["According to the report, how many jobs were added?",
                                      "How many goals did the striker score, according to the club?"])
def test_according_to_a_document_or_organisation_asks_no_speaker(question):
    from assistant.text.question import analyse_question

    assert not analyse_question(question).speaker_words


def test_an_undated_article_about_this_year_is_not_about_another_year():
    from assistant.claims.compare import absent_names

    art = "Forecasters expect a busy season this year, after 10 hurricanes in 2012."
    claim = "Forecasters expected a quiet 2013 season."
    assert absent_names(claim, art, undated=True) == []  # "this year" of an undated copy may be 2013
    assert absent_names(claim, art, undated=False) == ["2013"]  # a dated article would say so
    assert absent_names(claim, "The 2012 season had 10 hurricanes.", undated=True) == ["2013"]


@pytest.mark.parametrize("claim,sentence,conflict", [
    ("The fund's earlier forecast for 2015 growth had been issued in January.",
     "The fund is predicting slower growth, down from its prediction in April.", True),
    ("The club confirmed the transfer in March.", "The club confirmed the transfer, agreed in March 2021.", False),
    ("The trial opened on Monday.", "The trial opened on Wednesday in Boston.", True),
])
def test_the_one_month_or_day_each_side_states_is_compared(claim, sentence, conflict):
    from assistant.claims.compare import date_conflict

    assert bool(date_conflict(claim, sentence)) is conflict


@pytest.mark.parametrize("question,kind", [
    ("What is the striker's hometown?", "where"),
    ("What was the senator's birthplace?", "where"),
    ("What did the mayor say about her hometown?", "other"),
    ("How far into the pandemic did the director say the world was?", "duration"),
    ("How far did the wildfire spread overnight?", "duration"),
])
def test_what_kind_of_answer_a_question_asks_for(question, kind):
    from assistant.text.question import answer_type

    assert answer_type(question) == kind


@pytest.mark.parametrize("question,speaker,words", [
    ("How did the Olympic silver medalist describe the feeling?", None, {"silver", "medalist"}),
    ("How did the head of the Arkadelphia chamber of commerce describe the trade war?", None, {"head", "chamber"}),
    ("What did Apple chief executive Tim Cook say about the iPhone?", "cook", set()),
    ("What did the chairman, John Smith, say about rates?", "smith", set()),
])
def test_a_description_with_a_name_inside_is_still_a_description(question, speaker, words):
    from assistant.text.question import analyse_question

    qi = analyse_question(question)
    assert qi.speaker == speaker and words <= set(qi.speaker_words)
