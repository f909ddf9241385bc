"""Server-rendered web pages of cellfoundry, in Chinese and English."""
