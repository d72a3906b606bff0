"""Analysis, pure: the merge of validated returns and what it comes to (actions, themes, cohorts, trends, the
returns expected, the evidence a master or report shows). Nothing here reads or writes a file."""
