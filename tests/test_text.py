from keras_vae.text import table


def test_columns_align_numbers_right_and_names_left_when_asked():
    text = table(
        ("", "loss"),
        [("train", "1.50"), ("validation", "12.25")],
        first_column_left=True,
    )
    assert text.splitlines() == [
        "             loss",
        "train        1.50",
        "validation  12.25",
    ]


def test_all_columns_right_aligned_by_default():
    assert table(("beta", "KL"), [("0", "349.21"), ("200", "0.3")]).splitlines() == [
        "beta      KL",
        "   0  349.21",
        " 200     0.3",
    ]
