"""The evaluation sets and `arbitrage eval`: how well a model turns questions into tool calls.

own          the project's own set (EVAL_SET) and questions with a part no filter can express
independent  a set written blind by a second person, plus single-deal (ASIN/ISBN) questions
fresh        a set by class of phrasing written before the parser changes of issue 17
holdout      a second such set written after them
run          the cases with their categories, and scoring any chat model on them
"""
