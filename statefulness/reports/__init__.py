"""What the runs leave, and the documents made from them: the claims report (``claims_report``), the matrix
across environments (``matrix``, ``matrix_page``) and the generated documents (``documents``). Plain data and
text: importing it never loads Keras (``tests/test_layout_of_the_package.py`` checks)."""
