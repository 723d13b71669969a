"""Which-questions asking for a maker or a product model by name: a name counts where the sentence attaches it to a
device, not a place, a study, a data set, a method or a measure named nearby (helper-71's cases)."""

from __future__ import annotations

import pytest

from rag.makers import asked_maker, maker_names
from rag.query import analyze
from rag.sufficiency import SufficiencyChecker
from rag.types import Paper
from tests.fakes import TermCounts, sentence_status


@pytest.mark.parametrize(
    ("question", "sentence"),
    [  # the name is attached to the device: before its noun, used as the noun, after "by" or in parentheses
        ("Which eye tracker model was used?", "Readers were recorded with a Tobii Pro Spectrum eye tracker."),
        ("Which brand of wearable was used?", "Steps were counted with a Fitbit Charge 4 worn on the wrist."),
        ("Which company built the legged robot?", "Spot, the legged robot made by Boston Dynamics, inspected sites."),
        ("Which microscope model was used?", "Cells were imaged with a confocal microscope (Leica SP8) at 37 C."),
        ("Who manufactured the electric vehicles?", "Logs from 1,800 Tesla Model 3 vehicles were analysed."),
        ("Which ECG patch model was used?", "AF burden was measured using the Zio XT ambulatory ECG patch."),
        ("Which wearable model was used?", "Stress was tracked with an Empatica E4 wristband for a week."),
        ("Which GPU model was used for training?", "Training took 9 hours on 8× H100 GPUs."),
        ("Which phone model was the app evaluated on?", "The app was evaluated on a Google Pixel 7."),
        ("Which robot model was used?", "We deploy the policy on the Spot robot in an office building."),
        ("Name the manufacturer and model of the heart rate sensor.", "Polar H10 chest straps recorded R-R intervals."),
        # helper-72's attack: a model number after a verb, "by" whatever follows, "of" after the device, a maker
        # word in apposition, "model X", dashes and line breaks, a device noun after a preposition
        ("Which accelerometer model did participants wear?", "Participants wore ActiGraph GT3X+ for seven days."),
        ("Which company supplied the insulin pumps?", "The pumps were donated by Medtronic free of charge."),
        (
            "Which company made the confocal microscope?",
            "Roots were imaged on a microscope of Leica Microsystems.",
        ),
        (
            "Which company manufactured the wristbands?",
            "We used wristbands whose manufacturer, Empatica, helped.",
        ),
        (
            "Which lidar model was mounted on the vehicle?",
            "Snow was mapped with a lidar, model OS1-128, on the roof.",
        ),
        ("Which camera model was mounted on the gimbal?", "One camera—the Sony A7R IV—was mounted on the gimbal."),
        ("Which company made the drones?", "All drones were made by\nDJI for the survey."),
        ("Which smartwatch model was used?", "Sensors embedded in Garmin Fenix 6 smartwatches logged heart rate."),
        ("Which company made the accelerometers?", "Each child wore an ActiGraph continuously for seven days."),
        ("Which company made the drone?", "The drone was made by 大疆 (DJI) in Shenzhen."),  # a script without case
    ],
)
def test_a_name_attached_to_the_device_answers_a_maker_or_model_question(question: str, sentence: str) -> None:
    asked = asked_maker(analyze(question))
    assert asked is not None and maker_names(question, sentence, asked)


@pytest.mark.parametrize(
    ("question", "sentence"),
    [  # capitalised words near the device that name something else
        ("Which company made the smartwatch?", "Sleep was scored by polysomnography at the Stanford Sleep Center."),
        ("Which smartphone model did the app run on?", "The app was tested at clinics in Nairobi with a smartphone."),
        ("Name the manufacturer of the LiDAR sensor.", "On the KITTI and Newer College datasets a LiDAR sensor wins."),
        ("Which company made the eye tracker?", "Fixations from the eye tracker were found with the I-VT algorithm."),
        ("Which company manufactured the force plates?", "Jump heights from force plates agreed (ICC = 0.94)."),
        ("Which company made the solar panels?", "Solar panels were tracked and an XGBoost model had an R2 of 0.87."),
        ("Which manufacturer produced the wind turbines?", "We study 120 wind turbines of 3 MW rated power."),
        ("Which company made the smart insoles?", "The smart insoles sent alerts via Bluetooth to the clinic."),
        ("Which GPU model was used for training?", "Training took 9 hours on a single NVIDIA GPU."),
        ("What IMU model does the system use?", "The tracker fuses a monocular camera with a low-cost MEMS IMU."),
        ("Which radar model was used?", "Breathing was sensed with a 60 GHz FMCW radar placed 1 m away."),
        ("Which microscope model was used?", "Cells were imaged on the microscope (Fig. 1) at 37 C."),
        ("Which camera model was used?", "Low-cost 3D digitization with a handheld camera helps small museums."),
    ],
)
def test_a_name_of_another_thing_near_the_device_names_no_maker_or_model(question: str, sentence: str) -> None:
    assert sentence_status(question, sentence) == "partial"


@pytest.mark.parametrize(
    ("question", "label", "product"),
    [
        ("What was the make and model of the spectrophotometer?", "make and model", True),
        ("Which model of eye tracker did they use?", "eye tracker model", True),
        ("What model of spectrometer was used?", "spectrometer model", True),
        ("Which GPU brand was used?", "GPU brand", False),
        ("What was the brand of the smart speaker?", "brand", False),
        ("Which seismometer model was deployed?", "seismometer model", True),
        ("Which company made the MRI scanner?", "company", False),
        ("Who makes the wrist-worn tracker?", "maker", False),
    ],
)
def test_a_maker_or_a_model_is_asked_in_many_wordings(question: str, label: str, product: bool) -> None:
    asked = asked_maker(analyze(question))
    assert asked is not None and (asked.label, asked.product) == (label, product)


def test_an_answer_naming_the_device_is_answered_and_one_naming_only_other_things_is_partial() -> None:
    question = "Which company made the eye tracker?"
    assert sentence_status(question, "The eye tracker, made by Tobii, sampled at 600 Hz.") == "answered"
    assert sentence_status(question, "The eye tracker sampled at 600 Hz in MATLAB.") == "partial"


def test_the_thing_asked_about_is_read_after_the_cue_and_a_model_of_a_method_asks_no_maker() -> None:
    asked = asked_maker(analyze("Which company made the MRI scanner used in the study?"))
    assert asked is not None and {"mri", "scanner"} <= asked.thing and "study" not in asked.thing
    assert asked_maker(analyze("Which parameter model was fitted?")) is None  # "-meter", not an instrument
    assert asked_maker(analyze("Which regression model was fitted?")) is None
    assert asked_maker(analyze("What model of consciousness do they propose?")) is None  # a model of no device
    assert asked_maker(analyze("Which model of the vehicle is used in the MPC?")) is None  # helper-78: not a product
    assert asked_maker(analyze("Who made the diagnosis?")) is None  # who made a thing that is no device
    assert asked_maker(analyze("Who makes the final decision on discharge?")) is None


@pytest.mark.timeout(30)
def test_the_maker_rules_read_long_hostile_text_in_linear_time() -> None:
    asked = asked_maker(analyze("Which company made the camera?"))
    assert asked is not None
    hostile = "a Zeiss (Leica " * 10_000 + "camera."
    assert maker_names("Which company made the camera?", hostile, asked)
    assert maker_names("Which company made the camera?", "in X1 " * 20_000, asked) == []


def test_a_verb_make_asks_no_maker_and_a_make_and_model_after_the_noun_asks_a_model() -> None:
    # helper-74: "make" the verb, and "camera make and model", were misread
    assert asked_maker(analyze("What sensors make up the wearable?")) is None
    asked = asked_maker(analyze("Which camera make and model was used?"))
    assert asked is not None and asked.product and "camera" in asked.thing
    assert asked_maker(analyze("What scope model was used?")) is None  # "scope" alone is no instrument


def test_a_part_asking_a_maker_says_which_maker_is_missing() -> None:
    question = "Which company made the drone, and which lidar model was used?"
    paper = Paper(id="p", title="A study", abstract="The drone carried a lidar and flew 20 km.")
    words = {w.strip(".,?").lower(): 5 for w in f"{question} {paper.abstract}".split()}
    verdict = SufficiencyChecker(TermCounts(words)).check(analyze(question), [paper.abstract], [paper])
    assert verdict.status == "partial"
    assert "name the " in (verdict.missing or "") and not (verdict.missing or "").rstrip().endswith("name the")


def test_a_model_of_a_device_is_asked_by_name_and_a_missing_make_and_model_is_said_whole() -> None:
    question = "Which model of eye tracker did they use?"
    assert sentence_status(question, "Gaze was recorded with a Tobii Pro Spectrum eye tracker.") == "answered"
    assert sentence_status(question, "Gaze was recorded with an eye tracker at 600 Hz.") == "partial"
    paper = Paper(id="p", title="A study", abstract="Gaze was recorded with an eye tracker at 600 Hz.")
    asked = "What make and model of eye tracker did they use?"
    words = {w.strip(".,?").lower(): 5 for w in f"{asked} {paper.abstract}".split()}
    verdict = SufficiencyChecker(TermCounts(words)).check(analyze(asked), [paper.abstract], [paper])
    assert verdict.status == "partial" and "name the make and model" in (verdict.missing or "")


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("eye tracker model used in reading study", "eye tracker model"),
        ("reading study GNSS receiver brand", "GNSS receiver brand"),
        ("GPT-2 language model", None),  # a model of no device
        ("surface code circuit-level noise model threshold", None),
        # helper-78: the cue ends the phrase; a later cue is read; a small word opens no noun
        ("drone model predictive control horizon", None),
        ("smartphone brand loyalty drivers", None),
        ("language model inference GPU vendor", "inference GPU vendor"),
        ("choice of camera model", "camera model"),
        ("the model", None),  # a small word alone before the cue (an IndexError on a first version)
        ("a vendor used", None),
    ],
)
def test_a_keyword_query_asks_a_model_or_a_brand_after_a_device_noun(query: str, label: str | None) -> None:
    asked = asked_maker(analyze(query))
    assert (asked.label if asked else None) == label
    if label:
        assert sentence_status(query, "Gaze was recorded in the lab at 600 Hz by the device.") == "partial"


def test_a_keyword_query_for_a_model_is_answered_by_a_model_attached_to_the_device() -> None:
    query = "eye tracker model used in reading study"
    assert analyze(query).keyword and not analyze("Which eye tracker model was used?").keyword  # read once, by analyze
    assert sentence_status(query, "Readers wore a Tobii Pro Glasses 3 eye tracker in the study.") == "answered"
