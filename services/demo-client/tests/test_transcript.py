from decimal import Decimal

from ncp_demo_client.domain.transcript import transcript_of


def test_credits_count_deepest_passed_results_only(sample):
    transcript = transcript_of(sample)
    helsinki, aalto = transcript.institutions
    assert helsinki.credits == Decimal("12.5")  # the programme's 180 and the failed 5 are not counted
    assert aalto.credits == Decimal(3)
    assert transcript.credits_text == "15.5"


def test_rows_keep_tree_depth_and_order(sample):
    rows = transcript_of(sample).institutions[0].rows
    assert [(r.title, r.depth) for r in rows] == [
        ("Computer Science BSc", 0), ("Algorithms", 1), ("Databases", 1), ("Compilers", 1)]
    assert rows[3].status == "failed"


def test_attachment_size_from_data_url(sample):
    (attachment,) = transcript_of(sample).attachments
    assert attachment.media_type == "application/pdf"
    assert attachment.size_bytes == 9
    assert attachment.pdf_data_url == "data:application/pdf;base64,JVBERi0xLjQK"
