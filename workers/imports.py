"""Village sheets: import (.xlsx/.csv), template and export. (being written)"""
